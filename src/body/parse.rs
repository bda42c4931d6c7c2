//! Body parsers: bytes to [`BodyField`]s, by content type. Each is
//! hand-written, single pass, bounded (fields, depth) and never panics; on a
//! body that was not read whole (`whole == false`) the last token, which may
//! be cut, is dropped.
//!
//! Which parser: the media type decides (`application/json` and `+json`,
//! `application/x-www-form-urlencoded`, `multipart/form-data`, `text/xml`,
//! `application/xml` and `+xml`, other `text/*`). A missing or other type is
//! sniffed: a body whose first non-space byte is `{` or `[` is JSON, `<` is
//! XML, one made only of form characters with an `=` is a form, other
//! UTF-8 text without control bytes is text; anything else is not read.
use super::{BodyField, BodyKind, media_type};

/// Fields kept per body at most.
pub const MAX_FIELDS: usize = 1024;
/// Nesting followed at most (JSON containers, XML elements).
pub const MAX_DEPTH: usize = 32;
/// Multipart parts read at most.
const MAX_PARTS: usize = 256;

/// What a parser found besides the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// How the body was read.
    pub kind: BodyKind,
    /// Nesting went deeper than [`MAX_DEPTH`].
    pub too_deep: bool,
    /// There were more than [`MAX_FIELDS`] fields.
    pub fields_over_limit: bool,
}

/// The fields found so far, bounded.
struct Sink<'a> {
    out: &'a mut Vec<BodyField>,
    over: bool,
    too_deep: bool,
}

impl Sink<'_> {
    fn push(&mut self, path: String, value: String) -> bool {
        if self.out.len() >= MAX_FIELDS {
            self.over = true;
            return false;
        }
        self.out.push(BodyField { path, value });
        true
    }
}

/// Parses `bytes` as `content_type` says (or as sniffed) into `out`.
pub fn parse(content_type: &str, bytes: &[u8], whole: bool, out: &mut Vec<BodyField>) -> Outcome {
    let mut sink = Sink {
        out,
        over: false,
        too_deep: false,
    };
    let kind = parse_into(content_type, bytes, whole, "", &mut sink, 0);
    Outcome {
        kind,
        too_deep: sink.too_deep,
        fields_over_limit: sink.over,
    }
}

fn kind_of(content_type: &str, bytes: &[u8]) -> BodyKind {
    let t = media_type(content_type).to_ascii_lowercase();
    if t == "application/json" || t.ends_with("+json") || t == "text/json" {
        BodyKind::Json
    } else if t == "application/x-www-form-urlencoded" {
        BodyKind::Form
    } else if t == "multipart/form-data" {
        BodyKind::Multipart
    } else if t == "text/xml" || t == "application/xml" || t.ends_with("+xml") {
        BodyKind::Xml
    } else if t.starts_with("text/") {
        BodyKind::Text
    } else {
        sniff(bytes)
    }
}

/// The kind of a body of unknown type, from its bytes.
pub fn sniff(bytes: &[u8]) -> BodyKind {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let rest = bytes.get(start..).unwrap_or_default();
    match rest.first() {
        None => BodyKind::Unparsed,
        Some(b'{' | b'[') => BodyKind::Json,
        Some(b'<') => BodyKind::Xml,
        Some(_) if looks_like_form(rest) => BodyKind::Form,
        Some(_) if looks_like_text(rest) => BodyKind::Text,
        Some(_) => BodyKind::Unparsed,
    }
}

fn looks_like_form(bytes: &[u8]) -> bool {
    memchr::memchr(b'=', bytes).is_some()
        && bytes.iter().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'=' | b'&'
                        | b'%'
                        | b'+'
                        | b'-'
                        | b'_'
                        | b'.'
                        | b'*'
                        | b'~'
                        | b'!'
                        | b'('
                        | b')'
                        | b','
                        | b';'
                        | b':'
                        | b'/'
                        | b'@'
                        | b'$'
                        | b'\''
                        | b'['
                        | b']'
                )
        })
}

fn looks_like_text(bytes: &[u8]) -> bool {
    // A cut at the limit may split a UTF-8 sequence: judge what is whole.
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    valid
        && !bytes
            .iter()
            .any(|b| b.is_ascii_control() && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
}

fn parse_into(
    content_type: &str,
    bytes: &[u8],
    whole: bool,
    prefix: &str,
    sink: &mut Sink<'_>,
    nesting: u8,
) -> BodyKind {
    let kind = kind_of(content_type, bytes);
    match kind {
        BodyKind::Json => json(bytes, whole, prefix, sink),
        BodyKind::Form => form(bytes, whole, prefix, sink),
        BodyKind::Multipart if nesting == 0 => match boundary(content_type) {
            Some(b) => multipart(bytes, b.as_bytes(), whole, sink),
            None => {
                text(bytes, whole, prefix, sink);
                return BodyKind::Text;
            }
        },
        BodyKind::Multipart => {
            text(bytes, whole, prefix, sink);
            return BodyKind::Text;
        }
        BodyKind::Xml => xml(bytes, whole, prefix, sink),
        BodyKind::Text => text(bytes, whole, prefix, sink),
        BodyKind::Unparsed => {}
    }
    kind
}

/// Decodes a form component: `+` is a space, `%XX` a byte; invalid escapes
/// stay as written; bytes that are not UTF-8 become U+FFFD.
pub fn form_decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0usize;
    while let Some(&b) = s.get(i) {
        let hex = |k: usize| s.get(k).and_then(|&c| char::from(c).to_digit(16));
        match (b, hex(i.saturating_add(1)), hex(i.saturating_add(2))) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h.saturating_mul(16).saturating_add(l)).unwrap_or(b'?'));
                i = i.saturating_add(3);
            }
            (b'+', _, _) => {
                out.push(b' ');
                i = i.saturating_add(1);
            }
            _ => {
                out.push(b);
                i = i.saturating_add(1);
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}/{key}")
    }
}

/// `key=value&...` (a part without `=` is a key with an empty value).
fn form(bytes: &[u8], whole: bool, prefix: &str, sink: &mut Sink<'_>) {
    let mut parts = bytes.split(|b| *b == b'&').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() && !whole {
            // The last pair may be cut.
            break;
        }
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        if part.is_empty() {
            continue;
        }
        let (k, v) = match memchr::memchr(b'=', part) {
            Some(eq) => (
                part.get(..eq).unwrap_or_default(),
                part.get(eq.saturating_add(1)..).unwrap_or_default(),
            ),
            None => (part, &b""[..]),
        };
        if !sink.push(join(prefix, &form_decode(k)), form_decode(v)) {
            return;
        }
    }
}

/// A plain text: one field (cut back to its last whitespace when not whole).
fn text(bytes: &[u8], whole: bool, prefix: &str, sink: &mut Sink<'_>) {
    let bytes = if whole {
        bytes
    } else {
        match bytes.iter().rposition(u8::is_ascii_whitespace) {
            Some(at) => bytes.get(..at).unwrap_or_default(),
            None => return,
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    sink.push(
        prefix.to_string(),
        String::from_utf8_lossy(bytes).into_owned(),
    );
}

/// Appends a JSON pointer reference token (`~` as `~0`, `/` as `~1`).
fn push_token(path: &mut String, token: &str) {
    path.push('/');
    for c in token.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

/// Reads a JSON string starting at the quote at `at`: its value and the
/// index after its closing quote; `None` if it does not end.
fn json_string(s: &[u8], at: usize) -> Option<(String, usize)> {
    let mut out: Vec<u8> = Vec::new();
    let mut i = at.checked_add(1)?;
    loop {
        let b = *s.get(i)?;
        match b {
            b'"' => {
                return Some((
                    String::from_utf8_lossy(&out).into_owned(),
                    i.checked_add(1)?,
                ));
            }
            b'\\' => {
                let e = *s.get(i.checked_add(1)?)?;
                i = i.checked_add(2)?;
                let c = match e {
                    b'n' => '\n',
                    b't' => '\t',
                    b'r' => '\r',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'u' => {
                        let (unit, next) = hex4(s, i)?;
                        i = next;
                        if (0xD800..0xDC00).contains(&unit)
                            && s.get(i) == Some(&b'\\')
                            && s.get(i.checked_add(1)?) == Some(&b'u')
                        {
                            let (low, after) = hex4(s, i.checked_add(2)?)?;
                            if (0xDC00..0xE000).contains(&low) {
                                i = after;
                                let cp = 0x10000u32
                                    .checked_add((unit.checked_sub(0xD800)?) << 10)?
                                    .checked_add(low.checked_sub(0xDC00)?)?;
                                char::from_u32(cp).unwrap_or('\u{FFFD}')
                            } else {
                                '\u{FFFD}'
                            }
                        } else {
                            char::from_u32(unit).unwrap_or('\u{FFFD}')
                        }
                    }
                    other => char::from(other),
                };
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            _ => {
                out.push(b);
                i = i.checked_add(1)?;
            }
        }
    }
}

fn hex4(s: &[u8], at: usize) -> Option<(u32, usize)> {
    let digits = s.get(at..at.checked_add(4)?)?;
    let text = std::str::from_utf8(digits).ok()?;
    let v = u32::from_str_radix(text, 16).ok()?;
    Some((v, at.checked_add(4)?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Value,
    ValueOrEnd,
    Key,
    KeyOrEnd,
    Colon,
    CommaOrEnd,
}

#[derive(Debug)]
enum Frame {
    /// An object; the path's length before this object's current key.
    Object(usize),
    /// An array: the path's length before the index, and the index.
    Array(usize, u64),
}

/// JSON: every string and number, with its JSON pointer (after `prefix`).
/// Several top-level values one after the other (JSON lines) are read too.
fn json(s: &[u8], whole: bool, prefix: &str, sink: &mut Sink<'_>) {
    let mut path = prefix.to_string();
    let mut stack: Vec<Frame> = Vec::new();
    let mut expect = Expect::Value;
    let mut i = 0usize;
    loop {
        while s.get(i).is_some_and(u8::is_ascii_whitespace) {
            i = i.saturating_add(1);
        }
        let Some(&b) = s.get(i) else { return };
        match expect {
            Expect::Value | Expect::ValueOrEnd => {
                if expect == Expect::ValueOrEnd && b == b']' {
                    close(&mut stack, &mut path);
                    i = i.saturating_add(1);
                    expect = after_value(&mut stack, &mut path, prefix);
                    continue;
                }
                match b {
                    b'{' | b'[' => {
                        if stack.len() >= MAX_DEPTH {
                            sink.too_deep = true;
                            return;
                        }
                        i = i.saturating_add(1);
                        if b == b'{' {
                            stack.push(Frame::Object(path.len()));
                            expect = Expect::KeyOrEnd;
                        } else {
                            stack.push(Frame::Array(path.len(), 0));
                            path.push_str("/0");
                            expect = Expect::ValueOrEnd;
                        }
                    }
                    b'"' => {
                        let Some((v, next)) = json_string(s, i) else {
                            return;
                        };
                        if !sink.push(path.clone(), v) {
                            return;
                        }
                        i = next;
                        expect = after_value(&mut stack, &mut path, prefix);
                    }
                    b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                        let len = s
                            .get(i..)
                            .unwrap_or_default()
                            .iter()
                            .take_while(|c| {
                                c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')
                            })
                            .count();
                        let end = i.saturating_add(len);
                        if end >= s.len() && !whole {
                            // The number or literal may be cut.
                            return;
                        }
                        if b != b't' && b != b'f' && b != b'n' {
                            let v = String::from_utf8_lossy(s.get(i..end).unwrap_or_default());
                            if !sink.push(path.clone(), v.into_owned()) {
                                return;
                            }
                        }
                        i = end;
                        expect = after_value(&mut stack, &mut path, prefix);
                    }
                    _ => return,
                }
            }
            Expect::Key | Expect::KeyOrEnd => {
                if expect == Expect::KeyOrEnd && b == b'}' {
                    close(&mut stack, &mut path);
                    i = i.saturating_add(1);
                    expect = after_value(&mut stack, &mut path, prefix);
                    continue;
                }
                if b != b'"' {
                    return;
                }
                let Some((k, next)) = json_string(s, i) else {
                    return;
                };
                push_token(&mut path, &k);
                i = next;
                expect = Expect::Colon;
            }
            Expect::Colon => {
                if b != b':' {
                    return;
                }
                i = i.saturating_add(1);
                expect = Expect::Value;
            }
            Expect::CommaOrEnd => {
                i = i.saturating_add(1);
                match (b, stack.last_mut()) {
                    (b',', Some(Frame::Object(base))) => {
                        path.truncate(*base);
                        expect = Expect::Key;
                    }
                    (b',', Some(Frame::Array(base, index))) => {
                        *index = index.saturating_add(1);
                        path.truncate(*base);
                        path.push('/');
                        path.push_str(&index.to_string());
                        expect = Expect::Value;
                    }
                    (b'}', Some(Frame::Object(_))) | (b']', Some(Frame::Array(..))) => {
                        close(&mut stack, &mut path);
                        expect = after_value(&mut stack, &mut path, prefix);
                    }
                    _ => return,
                }
            }
        }
    }
}

/// Ends the innermost container: the path back to what it was before it.
fn close(stack: &mut Vec<Frame>, path: &mut String) {
    match stack.pop() {
        Some(Frame::Object(base) | Frame::Array(base, _)) => path.truncate(base),
        None => {}
    }
}

/// What comes after a value (the key or index stays on the path until the
/// comma or the container's end).
fn after_value(stack: &mut [Frame], path: &mut String, prefix: &str) -> Expect {
    if stack.is_empty() {
        // A top-level value ended; another may follow (JSON lines).
        path.truncate(prefix.len());
        Expect::Value
    } else {
        Expect::CommaOrEnd
    }
}

/// The `boundary` parameter of a multipart content type.
fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        (!v.is_empty() && v.len() <= 200).then(|| v.to_string())
    })
}

/// A `Content-Disposition` parameter (`name`, `filename`).
fn disposition_param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// True for part content types whose contents are read (text-like).
fn readable_part(content_type: &str) -> bool {
    let t = media_type(content_type).to_ascii_lowercase();
    t.is_empty()
        || t.starts_with("text/")
        || t == "application/json"
        || t.ends_with("+json")
        || t == "application/x-www-form-urlencoded"
        || t == "application/xml"
        || t.ends_with("+xml")
}

/// `multipart/form-data`: each part's name and value (a text value by the
/// part's own type: JSON, form, XML or text), and file names; file
/// contents are read only when their type is text-like.
fn multipart(s: &[u8], boundary: &[u8], whole: bool, sink: &mut Sink<'_>) {
    let mut delim = b"--".to_vec();
    delim.extend_from_slice(boundary);
    let finder = memchr::memmem::Finder::new(&delim);
    let mut starts = finder.find_iter(s).peekable();
    let mut parts = 0usize;
    while let Some(at) = starts.next() {
        let from = at.saturating_add(delim.len());
        if s.get(from..from.saturating_add(2)) == Some(b"--") {
            return;
        }
        let (end, closed) = match starts.peek() {
            Some(next) => (*next, true),
            None => (s.len(), false),
        };
        parts = parts.saturating_add(1);
        if parts > MAX_PARTS {
            sink.over = true;
            return;
        }
        let part = s.get(from..end).unwrap_or_default();
        // The CRLF before the next delimiter belongs to it.
        let part = if closed {
            part.strip_suffix(b"\r\n")
                .or_else(|| part.strip_suffix(b"\n"))
                .unwrap_or(part)
        } else {
            part
        };
        let Some(head_end) = memchr::memmem::find(part, b"\r\n\r\n")
            .map(|h| (h, 4))
            .or_else(|| memchr::memmem::find(part, b"\n\n").map(|h| (h, 2)))
        else {
            return;
        };
        let head = String::from_utf8_lossy(part.get(..head_end.0).unwrap_or_default());
        let content = part
            .get(head_end.0.saturating_add(head_end.1)..)
            .unwrap_or_default();
        let mut name = String::new();
        let mut filename = None;
        let mut ctype = String::new();
        for line in head.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = disposition_param(v, "name").unwrap_or_default();
                filename = disposition_param(v, "filename");
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                ctype = v.trim().to_string();
            }
        }
        let part_whole = closed || whole;
        if let Some(f) = filename {
            if !sink.push(format!("{name};filename"), f) {
                return;
            }
            if !readable_part(&ctype) || ctype.is_empty() {
                continue;
            }
        } else if !readable_part(&ctype) {
            continue;
        }
        let ctype = if ctype.is_empty() {
            "text/plain"
        } else {
            &ctype
        };
        parse_into(ctype, content, part_whole, &name, sink, 1);
        if sink.over {
            return;
        }
    }
}

/// Replaces the XML predefined entities and character references.
fn xml_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp..).unwrap_or_default();
        let Some(semi) = after.find(';').filter(|&k| k <= 10) else {
            out.push('&');
            rest = after.get(1..).unwrap_or_default();
            continue;
        };
        let entity = after.get(1..semi).unwrap_or_default();
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = after.get(semi.saturating_add(1)..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

/// XML: each element's text (path `/a/b`) and each attribute (`/a/@name`).
/// Comments, processing instructions and declarations are skipped; CDATA
/// is text. Not a validating parser: it reads what a well-formed document
/// holds and stops at what it cannot follow.
fn xml(bytes: &[u8], whole: bool, prefix: &str, sink: &mut Sink<'_>) {
    let s = String::from_utf8_lossy(bytes);
    let s = s.as_ref();
    let mut path = prefix.to_string();
    let mut bases: Vec<usize> = Vec::new();
    let mut i = 0usize;
    while i < s.len() {
        let rest = s.get(i..).unwrap_or_default();
        let Some(lt) = rest.find('<') else {
            if whole {
                push_text(rest, &path, sink);
            }
            return;
        };
        if !push_text(rest.get(..lt).unwrap_or_default(), &path, sink) {
            return;
        }
        let tag = rest.get(lt..).unwrap_or_default();
        let (skip_to, cdata) = if tag.starts_with("<!--") {
            ("-->", false)
        } else if tag.starts_with("<![CDATA[") {
            ("]]>", true)
        } else if tag.starts_with("<?") {
            ("?>", false)
        } else if tag.starts_with("<!") {
            (">", false)
        } else {
            ("", false)
        };
        if !skip_to.is_empty() {
            let Some(end) = tag.find(skip_to) else { return };
            if cdata {
                let inner = tag.get(9..end).unwrap_or_default();
                if !inner.trim().is_empty() && !sink.push(path.clone(), inner.to_string()) {
                    return;
                }
            }
            i = i
                .saturating_add(lt)
                .saturating_add(end)
                .saturating_add(skip_to.len());
            continue;
        }
        let Some(gt) = tag.find('>') else { return };
        let inner = tag.get(1..gt).unwrap_or_default();
        i = i.saturating_add(lt).saturating_add(gt).saturating_add(1);
        if let Some(name) = inner.strip_prefix('/') {
            let _ = name;
            if let Some(base) = bases.pop() {
                path.truncate(base);
            }
            continue;
        }
        let self_closing = inner.ends_with('/');
        let inner = inner.strip_suffix('/').unwrap_or(inner);
        let name_end = inner
            .find(|c: char| c.is_whitespace())
            .unwrap_or(inner.len());
        let name = inner.get(..name_end).unwrap_or_default();
        if bases.len() >= MAX_DEPTH {
            sink.too_deep = true;
            return;
        }
        let base = path.len();
        path.push('/');
        path.push_str(name);
        // Attributes: name="value" or name='value'.
        let mut attrs = inner.get(name_end..).unwrap_or_default();
        while let Some(eq) = attrs.find('=') {
            let key = attrs.get(..eq).unwrap_or_default().trim();
            let after = attrs
                .get(eq.saturating_add(1)..)
                .unwrap_or_default()
                .trim_start();
            let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                break;
            };
            let Some(close) = after.get(1..).and_then(|a| a.find(q)) else {
                break;
            };
            let value = after.get(1..close.saturating_add(1)).unwrap_or_default();
            if !key.is_empty() && !sink.push(format!("{path}/@{key}"), xml_unescape(value)) {
                return;
            }
            attrs = after.get(close.saturating_add(2)..).unwrap_or_default();
        }
        if self_closing {
            path.truncate(base);
        } else {
            bases.push(base);
        }
    }
}

/// Pushes an element's text if it holds more than whitespace.
fn push_text(text: &str, path: &str, sink: &mut Sink<'_>) -> bool {
    let t = text.trim();
    if t.is_empty() {
        return true;
    }
    sink.push(path.to_string(), xml_unescape(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(ct: &str, body: &[u8], whole: bool) -> Vec<(String, String)> {
        let mut out = Vec::new();
        parse(ct, body, whole, &mut out);
        out.into_iter().map(|f| (f.path, f.value)).collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn forms_decode_plus_and_percent() {
        let ct = "application/x-www-form-urlencoded; charset=UTF-8";
        assert_eq!(
            fields(ct, b"to=%2B447700900123&msg=a+b&flag&=x&bad=%zz", true),
            pairs(&[
                ("to", "+447700900123"),
                ("msg", "a b"),
                ("flag", ""),
                ("", "x"),
                ("bad", "%zz")
            ])
        );
        // Cut: the last pair is dropped.
        assert_eq!(
            fields(ct, b"a=1&phone=4477009", false),
            pairs(&[("a", "1")])
        );
    }

    #[test]
    fn json_pointers_for_strings_and_numbers() {
        let body = br#"{"user":{"phone":"+447700900123","age":41,"ok":true,"n":null},
            "to":[447700900123, "x", {"a/b~c": "v"}], "e": {}, "f": [], "s":"\u00e9\"\n"}"#;
        assert_eq!(
            fields("application/json", body, true),
            pairs(&[
                ("/user/phone", "+447700900123"),
                ("/user/age", "41"),
                ("/to/0", "447700900123"),
                ("/to/1", "x"),
                ("/to/2/a~1b~0c", "v"),
                ("/s", "é\"\n"),
            ])
        );
        // Sniffed, a top-level scalar, JSON lines.
        assert_eq!(
            fields("application/json", b"\"x\"", true),
            pairs(&[("", "x")])
        );
        assert_eq!(
            fields("", b"{\"a\":1}\n{\"a\":2}\n", true),
            pairs(&[("/a", "1"), ("/a", "2")])
        );
        // Cut inside a string or a number: not reported.
        assert_eq!(
            fields("application/json", br#"{"a":"1","p":"+4477009"#, false),
            pairs(&[("/a", "1")])
        );
        assert_eq!(
            fields("application/json", br#"{"a":"1","p":4477009"#, false),
            pairs(&[("/a", "1")])
        );
    }

    #[test]
    fn json_depth_and_field_limits() {
        let deep = format!("{}\"x\"{}", "[".repeat(100), "]".repeat(100));
        let mut out = Vec::new();
        let o = parse("application/json", deep.as_bytes(), true, &mut out);
        assert!(o.too_deep && out.is_empty());
        let many = format!("[{}1]", "1,".repeat(5000));
        let mut out = Vec::new();
        let o = parse("application/json", many.as_bytes(), true, &mut out);
        assert!(o.fields_over_limit);
        assert_eq!(out.len(), MAX_FIELDS);
    }

    #[test]
    fn multipart_fields_files_and_nested_types() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"phone\"\r\n\r\n+447700900123\r\n--XyZ\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{\"msisdn\":\"447700900123\"}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"pic\"; filename=\"tel_447700900123.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0+447700900123\r\n--XyZ--\r\n";
        assert_eq!(
            fields("multipart/form-data; boundary=XyZ", body, true),
            pairs(&[
                ("phone", "+447700900123"),
                ("meta/msisdn", "447700900123"),
                ("pic;filename", "tel_447700900123.jpg"),
            ])
        );
    }

    #[test]
    fn xml_elements_and_attributes() {
        let body = b"<?xml version=\"1.0\"?><!-- c --><req id='7'><msisdn>447700900123</msisdn><a x=\"+44 7700 900123\"/><t><![CDATA[tel:+447700900123]]></t><e>&#43;44&amp;</e></req>";
        assert_eq!(
            fields("text/xml", body, true),
            pairs(&[
                ("/req/@id", "7"),
                ("/req/msisdn", "447700900123"),
                ("/req/a/@x", "+44 7700 900123"),
                ("/req/t", "tel:+447700900123"),
                ("/req/e", "+44&"),
            ])
        );
    }

    #[test]
    fn text_and_sniffing() {
        assert_eq!(
            fields("text/plain", b"call me at +447700900123 today", false),
            pairs(&[("", "call me at +447700900123")])
        );
        assert_eq!(sniff(b"a=1&b=2"), BodyKind::Form);
        assert_eq!(sniff(b"  [1]"), BodyKind::Json);
        assert_eq!(sniff(b"hello there"), BodyKind::Text);
        assert_eq!(sniff(b"\x00\x01\x02"), BodyKind::Unparsed);
        assert_eq!(sniff(b""), BodyKind::Unparsed);
    }

    /// A JSON value of strings, numbers, arrays and objects, and the
    /// (pointer, value) pairs a reader must find in it.
    fn json_model() -> impl Strategy<Value = (String, Vec<(String, String)>)> {
        let leaf = prop_oneof![
            "[a-z0-9 +/~\"\\\\é]{0,12}".prop_map(|s| (serde_json::to_string(&s).unwrap(), Some(s))),
            (0u64..1_000_000_000_000).prop_map(|n| (n.to_string(), Some(n.to_string()))),
            Just(("true".to_string(), None)),
            Just(("null".to_string(), None)),
        ]
        .prop_map(|(text, v)| {
            (
                text,
                v.map(|v| vec![(String::new(), v)]).unwrap_or_default(),
            )
        });
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(|items| {
                    let text = format!(
                        "[{}]",
                        items
                            .iter()
                            .map(|(t, _)| t.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    );
                    let mut found = Vec::new();
                    for (i, (_, f)) in items.into_iter().enumerate() {
                        found.extend(f.into_iter().map(|(p, v)| (format!("/{i}{p}"), v)));
                    }
                    (text, found)
                }),
                prop::collection::vec(("[a-z/~]{1,6}", inner), 0..6).prop_map(|items| {
                    let mut seen = std::collections::HashSet::new();
                    let items: Vec<_> = items
                        .into_iter()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .collect();
                    let text = format!(
                        "{{ {} }}",
                        items
                            .iter()
                            .map(|(k, (t, _))| format!(
                                "{}: {t}",
                                serde_json::to_string(k).unwrap()
                            ))
                            .collect::<Vec<_>>()
                            .join(" , ")
                    );
                    let mut found = Vec::new();
                    for (k, (_, f)) in items {
                        let mut key = String::new();
                        push_token(&mut key, &k);
                        found.extend(f.into_iter().map(|(p, v)| (format!("{key}{p}"), v)));
                    }
                    (text, found)
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn json_round_trip_against_a_model((text, want) in json_model()) {
            prop_assert_eq!(fields("application/json", text.as_bytes(), true), want);
        }

        #[test]
        fn form_round_trip_against_a_model(pairs in prop::collection::vec(("[a-z+ %&=é0-9]{0,8}", "[a-z+ %&=é0-9]{0,8}"), 1..8)) {
            let enc = |s: &str| {
                let mut out = String::new();
                for b in s.bytes() {
                    match b {
                        b' ' => out.push('+'),
                        b'a'..=b'z' | b'0'..=b'9' => out.push(char::from(b)),
                        _ => out.push_str(&format!("%{b:02X}")),
                    }
                }
                out
            };
            let body = pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
            let got = fields("application/x-www-form-urlencoded", body.as_bytes(), true);
            // `=` alone (empty key and value) is a pair too.
            prop_assert_eq!(got, pairs);
        }

        #[test]
        fn parsers_never_panic(ct in prop_oneof![Just("application/json"), Just("text/xml"), Just("multipart/form-data; boundary=b"), Just("application/x-www-form-urlencoded"), Just("")],
                               bytes in prop::collection::vec(prop_oneof![any::<u8>(), Just(b'{'), Just(b'"'), Just(b'<'), Just(b'-'), Just(b'\\')], 0..300),
                               whole in any::<bool>()) {
            let mut out = Vec::new();
            parse(ct, &bytes, whole, &mut out);
            prop_assert!(out.len() <= MAX_FIELDS);
        }
    }
}
