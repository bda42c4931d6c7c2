//! Parsing one complete (or cut) request head: request line and header lines.
//!
//! httparse does the common case; a lenient line splitter takes over when it
//! refuses (obs-fold, `Name : value`, NUL bytes, more than 64 headers, a cut
//! head), because a leak detector must not lose a header that a server might
//! still have read.
use super::request::Header;

/// The parts of a head, before they are attached to a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Method token.
    pub method: String,
    /// Request target.
    pub uri: String,
    /// `HTTP/1.x`.
    pub version: String,
    /// Header lines in order.
    pub headers: Vec<Header>,
}

/// Registered HTTP methods (IANA HTTP Method Registry), which start a request.
const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"PATCH",
    b"TRACE",
    b"CONNECT",
    b"ACL",
    b"BASELINE-CONTROL",
    b"BIND",
    b"CHECKIN",
    b"CHECKOUT",
    b"COPY",
    b"LABEL",
    b"LINK",
    b"LOCK",
    b"MERGE",
    b"MKACTIVITY",
    b"MKCALENDAR",
    b"MKCOL",
    b"MKREDIRECTREF",
    b"MKWORKSPACE",
    b"MOVE",
    b"ORDERPATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"QUERY",
    b"REBIND",
    b"REPORT",
    b"SEARCH",
    b"UNBIND",
    b"UNCHECKOUT",
    b"UNLINK",
    b"UNLOCK",
    b"UPDATE",
    b"UPDATEREDIRECTREF",
    b"VERSION-CONTROL",
];

/// How the start of a line compares with a request line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStart {
    /// A registered method followed by a space.
    Request,
    /// Could still become one: more bytes needed.
    NeedMore,
    /// A response status line (`HTTP/1.`).
    Response,
    /// Neither.
    Other,
}

/// Longest method token accepted.
const MAX_METHOD: usize = 24;

/// Registered methods, or extension methods spelt like them (`RPC_IN_DATA`):
/// upper-case letters, `_` and `-`.
fn is_method(token: &[u8]) -> bool {
    METHODS.contains(&token)
        || (!token.is_empty()
            && token.len() <= MAX_METHOD
            && token
                .iter()
                .all(|b| b.is_ascii_uppercase() || *b == b'_' || *b == b'-'))
}

/// Classifies the bytes at a line start.
pub fn classify_line_start(bytes: &[u8]) -> LineStart {
    let Some(&first) = bytes.first() else {
        return LineStart::NeedMore;
    };
    if !first.is_ascii_uppercase() {
        return LineStart::Other;
    }
    if bytes.starts_with(b"HTTP/") {
        return LineStart::Response;
    }
    // Only the method's worth of bytes matters: never scan a whole chunk here.
    let bytes = bytes.get(..MAX_METHOD + 1).unwrap_or(bytes);
    let token_end = bytes.iter().position(|b| *b == b' ');
    let token = bytes
        .get(..token_end.unwrap_or(bytes.len()))
        .unwrap_or_default();
    let plausible = token
        .iter()
        .all(|b| b.is_ascii_uppercase() || *b == b'_' || *b == b'-' || *b == b'/');
    match token_end {
        Some(_) if is_method(token) => LineStart::Request,
        Some(_) => LineStart::Other,
        None if plausible && token.len() <= MAX_METHOD => LineStart::NeedMore,
        None => LineStart::Other,
    }
}

/// Splits a complete request line (without its line end) into method, target, version.
pub fn parse_request_line(line: &[u8]) -> Option<(&str, &str, &str)> {
    let line = std::str::from_utf8(line).ok()?;
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let method = parts.next()?;
    let target = parts.next()?;
    let version = parts.next()?;
    if parts.next().is_some() || !is_method(method.as_bytes()) {
        return None;
    }
    // HTTP/1.0 and 1.1; odd clients send e.g. `HTTP/1.0.8`, which servers accept.
    let minor = version.strip_prefix("HTTP/1.")?;
    if minor.len() > 8
        || !minor.starts_with(|c: char| c.is_ascii_digit())
        || !minor.bytes().all(|b| b.is_ascii_graphic())
    {
        return None;
    }
    if target.bytes().any(|b| b.is_ascii_control()) {
        return None;
    }
    Some((method, target, version))
}

/// Parses a head. `bytes` runs from the request line to the end of the empty
/// line that closes the head, or is a cut head (then only whole lines count).
pub fn parse_head(bytes: &[u8]) -> Option<Head> {
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut slots);
    if let Ok(httparse::Status::Complete(_)) = req.parse(bytes) {
        let (Some(method), Some(uri), Some(minor)) = (req.method, req.path, req.version) else {
            return parse_head_lenient(bytes);
        };
        let headers = req
            .headers
            .iter()
            .map(|h| Header {
                name: h.name.to_string(),
                value: trim_value(h.value),
            })
            .collect();
        return Some(Head {
            method: method.to_string(),
            uri: uri.to_string(),
            version: format!("HTTP/1.{minor}"),
            headers,
        });
    }
    parse_head_lenient(bytes)
}

/// The fallback: whole lines only, obs-fold joined, `Name : value` accepted.
fn parse_head_lenient(bytes: &[u8]) -> Option<Head> {
    let mut lines = bytes.split(|b| *b == b'\n');
    let first = lines.next()?;
    let (method, uri, version) = parse_request_line(first)?;
    let complete_lines = memchr::memrchr(b'\n', bytes).map_or(0, |i| i.saturating_add(1));
    let body = bytes
        .get(first.len().saturating_add(1)..complete_lines)
        .unwrap_or_default();
    let mut headers: Vec<Header> = Vec::new();
    for line in body.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if let Some(last) = headers.last_mut() {
                let more = trim_value(line);
                if !more.is_empty() {
                    if !last.value.is_empty() {
                        last.value.push(' ');
                    }
                    last.value.push_str(&more);
                }
            }
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = line.get(..colon).unwrap_or_default().trim_ascii();
        if name.is_empty() {
            continue;
        }
        headers.push(Header {
            name: lossy_string(name),
            value: trim_value(line.get(colon.saturating_add(1)..).unwrap_or_default()),
        });
    }
    Some(Head {
        method: method.to_string(),
        uri: uri.to_string(),
        version: version.to_string(),
        headers,
    })
}

fn trim_value(value: &[u8]) -> String {
    lossy_string(value.trim_ascii())
}

/// Bytes as text; invalid UTF-8 becomes U+FFFD. The strict check first is the
/// fast path (almost every header is ASCII).
fn lossy_string(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(h: &Head) -> Vec<(&str, &str)> {
        h.headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect()
    }

    #[test]
    fn line_starts() {
        assert_eq!(classify_line_start(b"GET / HTTP/1.1"), LineStart::Request);
        assert_eq!(classify_line_start(b"GE"), LineStart::NeedMore);
        assert_eq!(classify_line_start(b"HTT"), LineStart::NeedMore);
        assert_eq!(classify_line_start(b"HTTP/1.1 200 OK"), LineStart::Response);
        assert_eq!(classify_line_start(b"\x16\x03\x01"), LineStart::Other);
        assert_eq!(classify_line_start(b"SSH-2.0-OpenSSH"), LineStart::Other);
        assert_eq!(
            classify_line_start(b"RPC_IN_DATA /rpc HTTP/1.1"),
            LineStart::Request
        );
        assert_eq!(classify_line_start(b"get / HTTP/1.1"), LineStart::Other);
        assert_eq!(classify_line_start(b"GET/ HTTP/1.1"), LineStart::Other);
        assert_eq!(
            classify_line_start(b"MKCALENDAR /x HTTP/1.1"),
            LineStart::Request
        );
    }

    #[test]
    fn request_lines() {
        assert_eq!(
            parse_request_line(b"GET /a?b=c HTTP/1.1\r"),
            Some(("GET", "/a?b=c", "HTTP/1.1"))
        );
        assert_eq!(
            parse_request_line(b"CONNECT host:443 HTTP/1.0"),
            Some(("CONNECT", "host:443", "HTTP/1.0"))
        );
        assert_eq!(parse_request_line(b"GET / HTTP/2.0"), None);
        assert_eq!(
            parse_request_line(b"GET /w?a=1 HTTP/1.0.8"),
            Some(("GET", "/w?a=1", "HTTP/1.0.8"))
        );
        assert_eq!(parse_request_line(b"GET / HTTP/1."), None);
        assert_eq!(parse_request_line(b"GET / HTTP/1.1 extra"), None);
        assert_eq!(parse_request_line(b"get / HTTP/1.1"), None);
        assert_eq!(
            parse_request_line(b"RPC_OUT_DATA /rpc/rpcproxy.dll?h:6001 HTTP/1.1"),
            Some(("RPC_OUT_DATA", "/rpc/rpcproxy.dll?h:6001", "HTTP/1.1"))
        );
        assert_eq!(parse_request_line(b"GET /\x01 HTTP/1.1"), None);
    }

    #[test]
    fn ordinary_head_keeps_order_case_and_duplicates() {
        let h = parse_head(b"GET /x HTTP/1.1\r\nHost: a.example\r\nX-MSISDN:  447700900123 \r\nCookie: a=1\r\nCookie: b=2\r\n\r\n").unwrap();
        assert_eq!(
            (h.method.as_str(), h.uri.as_str(), h.version.as_str()),
            ("GET", "/x", "HTTP/1.1")
        );
        assert_eq!(
            names(&h),
            vec![
                ("Host", "a.example"),
                ("X-MSISDN", "447700900123"),
                ("Cookie", "a=1"),
                ("Cookie", "b=2")
            ]
        );
    }

    #[test]
    fn lenient_fallback_keeps_odd_headers() {
        let h = parse_head(b"GET / HTTP/1.1\r\nX-MSISDN : 4477\r\n 00900123\r\nBad\x00: v\r\n\r\n")
            .unwrap();
        assert_eq!(
            names(&h),
            vec![("X-MSISDN", "4477 00900123"), ("Bad\u{0}", "v")]
        );
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..150 {
            many.extend_from_slice(format!("X-H{i}: {i}\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        let h = parse_head(&many).unwrap();
        assert_eq!(h.headers.len(), 150);
        assert_eq!(h.headers[149].name, "X-H149");
    }

    #[test]
    fn cut_head_keeps_whole_lines_only() {
        let h = parse_head(b"GET / HTTP/1.1\r\nHost: a\r\nX-MSISDN: 44770").unwrap();
        assert_eq!(names(&h), vec![("Host", "a")]);
        assert!(parse_head(b"GET / HTT").is_none());
    }

    #[test]
    fn bare_lf_heads() {
        let h = parse_head(b"GET / HTTP/1.0\nHost: a\n\n").unwrap();
        assert_eq!(names(&h), vec![("Host", "a")]);
    }
}
