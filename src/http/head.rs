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
    /// Request target as sent; bytes that are not UTF-8 become U+FFFD.
    pub uri: String,
    /// `HTTP/1.x` as sent; cut (`HTTP/1.`) or empty when the client sent no version.
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
    /// A method followed by a space, or a registered method alone on its line.
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
    let token_end = bytes.iter().position(|b| matches!(b, b' ' | b'\r' | b'\n'));
    let token = bytes
        .get(..token_end.unwrap_or(bytes.len()))
        .unwrap_or_default();
    let plausible = token
        .iter()
        .all(|b| b.is_ascii_uppercase() || *b == b'_' || *b == b'-' || *b == b'/');
    let ends_line = token_end
        .and_then(|e| bytes.get(e))
        .is_some_and(|b| *b != b' ');
    match token_end {
        // A bare registered method (`OPTIONS`) may be a whole request line.
        Some(_) if ends_line => {
            if METHODS.contains(&token) {
                LineStart::Request
            } else {
                LineStart::Other
            }
        }
        Some(_) if is_method(token) => LineStart::Request,
        Some(_) => LineStart::Other,
        None if plausible && token.len() <= MAX_METHOD => LineStart::NeedMore,
        None => LineStart::Other,
    }
}

/// A request line split into its parts. The target is kept as bytes: it may
/// hold bytes that are not UTF-8 (reported lossily, see [`Head::uri`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLine<'a> {
    /// Method token (ASCII).
    pub method: &'a str,
    /// Request target as sent, spaces inside kept; empty for a bare method.
    pub target: &'a [u8],
    /// Version as sent (`HTTP/1.1`, a cut `HTTP/1.`); empty when absent.
    pub version: &'a str,
}

/// A version token a request may end with: `HTTP/1.` and a minor of up to
/// 8 printable bytes starting with a digit (odd clients send `HTTP/1.0.8`,
/// which servers accept).
fn is_version(token: &[u8]) -> bool {
    let Some(minor) = token.strip_prefix(b"HTTP/1.") else {
        return false;
    };
    minor.len() <= 8
        && minor.first().is_some_and(u8::is_ascii_digit)
        && minor.iter().all(u8::is_ascii_graphic)
}

/// Strips the line end and splits off the method; the rest starts after the
/// spaces that follow it.
fn method_and_rest(line: &[u8]) -> Option<(&str, &[u8])> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (method, rest) = match memchr::memchr(b' ', line) {
        Some(sp) => (line.get(..sp)?, line.get(sp..)?),
        None => (line, &b""[..]),
    };
    if !is_method(method) {
        return None;
    }
    // A method is ASCII (checked above): this never fails.
    let method = std::str::from_utf8(method).ok()?;
    let rest = rest.trim_ascii_start();
    Some((method, rest.trim_ascii_end()))
}

/// Splits a complete request line (without its `\n`): a method, a space, a
/// target (spaces inside allowed, as scanners and broken clients send them),
/// a space and `HTTP/1.x`. This strict form is what resynchronisation looks
/// for; see [`parse_request_line_lenient`] for message starts.
pub fn parse_request_line(line: &[u8]) -> Option<RequestLine<'_>> {
    let (method, rest) = method_and_rest(line)?;
    let sp = memchr::memrchr(b' ', rest)?;
    let version = rest.get(sp.saturating_add(1)..)?;
    let target = rest.get(..sp)?.trim_ascii_end();
    if target.is_empty() || !is_version(version) || target.iter().any(u8::is_ascii_control) {
        return None;
    }
    Some(RequestLine {
        method,
        target,
        version: std::str::from_utf8(version).ok()?,
    })
}

/// The strict form, or one with a missing or cut version (`GET /`,
/// `GET /HTTP/1.1`, `GET / HTTP/1.`, a bare `OPTIONS`): HTTP/0.9 and broken
/// clients. Only a registered method counts here, the version (if any) is
/// what follows the last space when it starts with `HTTP/`, the target is
/// origin (`/…`), `*`, absolute (`…://…`) or a CONNECT authority, and a target
/// without a version must not hold a space. The caller accepts it only at a
/// message start and when header lines or a blank line follow.
pub fn parse_request_line_lenient(line: &[u8]) -> Option<RequestLine<'_>> {
    if let Some(strict) = parse_request_line(line) {
        return Some(strict);
    }
    let (method, rest) = method_and_rest(line)?;
    if !METHODS.contains(&method.as_bytes()) || rest.iter().any(u8::is_ascii_control) {
        return None;
    }
    let (target, version) = match memchr::memrchr(b' ', rest) {
        Some(sp) => {
            let version = rest.get(sp.saturating_add(1)..)?;
            if !version.starts_with(b"HTTP/") || !version.iter().all(u8::is_ascii_graphic) {
                return None;
            }
            (rest.get(..sp)?.trim_ascii_end(), version)
        }
        None => (rest, &b""[..]),
    };
    let target_shape = target.is_empty()
        || target.starts_with(b"/")
        || target == b"*"
        || target.windows(3).any(|w| w == b"://")
        || method == "CONNECT";
    if !target_shape || target.contains(&b' ') || (target.is_empty() && !version.is_empty()) {
        return None;
    }
    Some(RequestLine {
        method,
        target,
        version: std::str::from_utf8(version).ok()?,
    })
}

/// Whether a line (without `\n`) can follow a request line in a head: an
/// obs-fold continuation or `name: value` with a token name (spaces before
/// the colon tolerated, as the lenient parser reads them).
fn is_header_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return true;
    }
    let Some(colon) = memchr::memchr(b':', line) else {
        return false;
    };
    let name = line.get(..colon).unwrap_or_default().trim_ascii_end();
    !name.is_empty()
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
}

/// Whether a complete head (request line to blank line) whose first line
/// has a missing or cut version may be taken as a request: every line after
/// the first is a header line (so a binary or text protocol that happens to
/// open with `GET` does not become one).
pub fn lenient_head_ok(head: &[u8]) -> bool {
    let mut lines = head.split(|b| *b == b'\n');
    let Some(first) = lines.next() else {
        return false;
    };
    if parse_request_line_lenient(first).is_none() {
        return false;
    }
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return true;
        }
        if !is_header_line(line) {
            return false;
        }
    }
    true
}

/// A request line cut by the head size limit (no line end seen): the method
/// and the target bytes kept, version empty, no headers. None when the
/// target holds a control byte (binary data after a method-like word).
pub fn parse_cut_request_line(bytes: &[u8]) -> Option<Head> {
    let sp = memchr::memchr(b' ', bytes)?;
    let method = bytes.get(..sp)?;
    if !is_method(method) {
        return None;
    }
    let target = bytes.get(sp..)?.trim_ascii();
    if target.is_empty() || target.iter().any(u8::is_ascii_control) {
        return None;
    }
    Some(Head {
        method: lossy_string(method),
        uri: lossy_string(target),
        version: String::new(),
        headers: Vec::new(),
    })
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
    let line = parse_request_line_lenient(first)?;
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
        method: line.method.to_string(),
        uri: lossy_string(line.target),
        version: line.version.to_string(),
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

    /// Method, lossy target and version of a strict (`lenient = false`) or lenient parse.
    fn rl(line: &[u8], lenient: bool) -> Option<(String, String, String)> {
        let p = if lenient {
            parse_request_line_lenient(line)
        } else {
            parse_request_line(line)
        }?;
        Some((
            p.method.to_string(),
            lossy_string(p.target),
            p.version.to_string(),
        ))
    }

    fn parts(m: &str, t: &str, v: &str) -> Option<(String, String, String)> {
        Some((m.into(), t.into(), v.into()))
    }

    #[test]
    fn request_lines() {
        assert_eq!(
            rl(b"GET /a?b=c HTTP/1.1\r", false),
            parts("GET", "/a?b=c", "HTTP/1.1")
        );
        assert_eq!(
            rl(b"CONNECT host:443 HTTP/1.0", false),
            parts("CONNECT", "host:443", "HTTP/1.0")
        );
        assert_eq!(rl(b"GET / HTTP/2.0", false), None);
        assert_eq!(
            rl(b"GET /w?a=1 HTTP/1.0.8", false),
            parts("GET", "/w?a=1", "HTTP/1.0.8")
        );
        assert_eq!(rl(b"GET / HTTP/1.", false), None);
        assert_eq!(rl(b"GET / HTTP/1.1 extra", false), None);
        assert_eq!(rl(b"get / HTTP/1.1", false), None);
        assert_eq!(
            rl(b"RPC_OUT_DATA /rpc/rpcproxy.dll?h:6001 HTTP/1.1", false),
            parts("RPC_OUT_DATA", "/rpc/rpcproxy.dll?h:6001", "HTTP/1.1")
        );
        assert_eq!(rl(b"GET /\x01 HTTP/1.1", false), None);
        assert_eq!(rl(b"GET HTTP/1.1", false), None);
    }

    #[test]
    fn targets_with_spaces_and_bytes_that_are_not_utf8() {
        assert_eq!(
            rl(b"GET /q?x=a b HTTP/1.1\r", false),
            parts("GET", "/q?x=a b", "HTTP/1.1")
        );
        assert_eq!(
            rl(b"GET /cgi-bin/x;cat /etc/passwd|?d=1 HTTP/1.1", false),
            parts("GET", "/cgi-bin/x;cat /etc/passwd|?d=1", "HTTP/1.1")
        );
        assert_eq!(
            rl(b"GET /caf\xe9 HTTP/1.1", false),
            parts("GET", "/caf\u{FFFD}", "HTTP/1.1")
        );
        let h = parse_head(b"GET /caf\xe9?n=1 b HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!(
            (h.uri.as_str(), h.version.as_str()),
            ("/caf\u{FFFD}?n=1 b", "HTTP/1.1")
        );
        assert_eq!(names(&h), vec![("Host", "a")]);
    }

    #[test]
    fn missing_or_cut_versions_only_in_the_lenient_form() {
        for line in [
            &b"GET /"[..],
            b"GET /HTTP/1.1",
            b"GET / HTTP/1.",
            b"OPTIONS",
        ] {
            assert_eq!(rl(line, false), None, "{line:?}");
        }
        assert_eq!(rl(b"GET /", true), parts("GET", "/", ""));
        assert_eq!(rl(b"GET /HTTP/1.1", true), parts("GET", "/HTTP/1.1", ""));
        assert_eq!(rl(b"GET / HTTP/1.\r", true), parts("GET", "/", "HTTP/1."));
        assert_eq!(rl(b"OPTIONS\r", true), parts("OPTIONS", "", ""));
        // Never: an extension method, spaces without a version, a version without target.
        assert_eq!(rl(b"HELLO /", true), None);
        assert_eq!(rl(b"GET /a b", true), None);
        assert_eq!(rl(b"GET HTTP/1.", true), None);
        assert_eq!(rl(b"GET /\x00", true), None);
        assert!(lenient_head_ok(b"GET /\r\n\r\n"));
        assert!(lenient_head_ok(
            b"GET / HTTP/1.\r\nHost: a\r\nX-Y : z\r\n\r\n"
        ));
        assert!(!lenient_head_ok(b"GET /\r\nnot a header\r\n\r\n"));
        assert!(!lenient_head_ok(b"GET /\r\nMAIL FROM:<a@b>\r\n\r\n"));
        let h = parse_head(b"GET / HTTP/1.\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!((h.uri.as_str(), h.version.as_str()), ("/", "HTTP/1."));
        assert_eq!(names(&h), vec![("Host", "a")]);
    }

    #[test]
    fn cut_request_lines() {
        let h = parse_cut_request_line(b"GET /aaaa?n=44770090").unwrap();
        assert_eq!(
            (h.method.as_str(), h.uri.as_str(), h.version.as_str()),
            ("GET", "/aaaa?n=44770090", "")
        );
        assert!(parse_cut_request_line(b"\x16\x03 abc").is_none());
        assert!(parse_cut_request_line(b"GETabc").is_none());
        assert!(parse_cut_request_line(b"GET /\x00\x01\x02").is_none());
        assert!(parse_cut_request_line(b"GET   ").is_none());
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
