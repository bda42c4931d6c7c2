//! Request bodies: collected within bounds, decoded within bounds, parsed
//! into fields that detection reads like query parameters.
//!
//! Three steps, each usable from any layer that carries bodies (HTTP/1's
//! Content-Length and chunked framing today):
//! - [`BodyCollector`] takes the body's bytes as they come, with the room
//!   the caller gives it (the per-request limit, lowered when the run's
//!   budget for bodies runs short), and gaps; past its room or after a gap
//!   it only counts, so what it keeps is always a prefix of the body.
//! - [`read_body`] undoes the `Content-Encoding` (gzip, deflate as zlib or
//!   raw, br, zstd), never producing more than the limit ([`decode`]), and
//!   parses the bytes by content type ([`parse`]): form fields, JSON strings
//!   and numbers with their JSON pointers, multipart fields and file names,
//!   XML element texts and attributes, or the whole text.
//! - The result, a [`Body`], rides on the request; detection scans its
//!   [`BodyField`]s.
//!
//! A body that was cut (limit, budget, gap, end of stream) is parsed up to
//! the cut, and its last, possibly partial, token is dropped: truncated data
//! never invents a shorter number.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

pub mod decode;
pub mod parse;

use crate::http::Header;

/// Default of `--max-body-bytes`: bytes of a body kept per request, and the
/// most its decoding may produce.
pub const DEFAULT_MAX_BODY: usize = 64 << 10;

/// Default budget of bodies held across all flows (divided among threads).
pub const DEFAULT_BODY_MEMCAP: usize = 64 << 20;

counters! {
    /// Counters of request bodies.
    pub struct BodyStats {
        /// Requests published with a body collected (whole or in part).
        pub bodies: u64,
        /// Body bytes framed on the wire of those requests (collected or not).
        pub bytes: u64,
        /// Bodies not read: a binary content type (image, audio, video, font,
        /// octet-stream, archives, protobuf), or bytes of an unknown type that
        /// look binary.
        pub skipped: u64,
        /// Bodies cut at `--max-body-bytes` (the rest only counted).
        pub cut_at_limit: u64,
        /// Bodies cut early because the bodies held across all flows reached
        /// their budget.
        pub cut_by_memcap: u64,
        /// Bodies in which the capture lost bytes: what came before the gap is kept.
        pub gaps: u64,
        /// Bodies that ended before their framing said (end of stream, a
        /// broken chunk): what came is kept.
        pub unfinished: u64,
        /// Bodies decoded from their `Content-Encoding` (gzip, deflate, br, zstd).
        pub decoded: u64,
        /// Decoded bodies cut at the limit (a decompression bomb costs no more).
        pub decoded_over_limit: u64,
        /// Bodies whose compressed data was damaged: parsed up to the damage.
        pub decode_errors: u64,
        /// Bodies with a `Content-Encoding` that is unknown or not built in: not parsed.
        pub unsupported_encoding: u64,
        /// Bodies parsed as JSON.
        pub json: u64,
        /// Bodies parsed as `application/x-www-form-urlencoded`.
        pub form: u64,
        /// Bodies parsed as `multipart/form-data`.
        pub multipart: u64,
        /// Bodies parsed as XML.
        pub xml: u64,
        /// Bodies read as plain text.
        pub text: u64,
        /// Bodies nested deeper than the parser follows (JSON, XML): fields
        /// below that depth not read.
        pub too_deep: u64,
        /// Bodies with more fields than are kept (1,024): the rest not read.
        pub fields_over_limit: u64,
    }
}

/// Why a collector stopped keeping bytes before the body's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyCut {
    /// The per-request limit (`--max-body-bytes`).
    Limit,
    /// The run's budget for bodies across all flows.
    Memcap,
}

/// Collects one body's bytes within bounds (see the module docs).
#[derive(Debug, Default)]
pub struct BodyCollector {
    bytes: Vec<u8>,
    seen: u64,
    cut: Option<BodyCut>,
    gap: bool,
}

/// A collected body: a prefix of the body's bytes and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawBody {
    /// The bytes kept (a prefix of the body).
    pub bytes: Vec<u8>,
    /// Bytes the framing delivered (kept or not, gaps included).
    pub seen: u64,
    /// Why bytes stopped being kept, if a limit did it.
    pub cut: Option<BodyCut>,
    /// A gap fell in the body.
    pub gap: bool,
    /// The framing's end was reached (false: end of stream, broken framing).
    pub complete: bool,
}

impl BodyCollector {
    /// An empty collector.
    pub fn new() -> Self {
        BodyCollector::default()
    }

    /// Takes the next bytes of the body. `room` is the most this collector
    /// may hold now (its share of the budget), `limit` the per-request
    /// limit: a cut below `limit` is a budget cut.
    pub fn push(&mut self, chunk: &[u8], room: usize, limit: usize) {
        self.seen = self.seen.saturating_add(chunk.len() as u64);
        if self.gap || self.cut.is_some() || chunk.is_empty() {
            return;
        }
        let max = room.min(limit);
        let take = chunk.len().min(max.saturating_sub(self.bytes.len()));
        let part = chunk.get(..take).unwrap_or_default();
        let need = self.bytes.len().saturating_add(part.len());
        if need > self.bytes.capacity() {
            // Grow by doubling, never past what the collector may hold.
            let cap = need.max(self.bytes.capacity().saturating_mul(2)).min(max);
            self.bytes
                .reserve_exact(cap.max(need).saturating_sub(self.bytes.len()));
        }
        self.bytes.extend_from_slice(part);
        if take < chunk.len() {
            self.cut = Some(if room < limit {
                BodyCut::Memcap
            } else {
                BodyCut::Limit
            });
        }
    }

    /// Notes `len` bytes of the body lost in the capture: nothing after
    /// them is kept.
    pub fn gap(&mut self, len: u64) {
        self.seen = self.seen.saturating_add(len);
        self.gap = true;
    }

    /// Bytes of memory held.
    pub fn held(&self) -> usize {
        self.bytes.capacity()
    }

    /// The collected body; `complete` when the framing's end was reached.
    pub fn finish(self, complete: bool) -> RawBody {
        RawBody {
            bytes: self.bytes,
            seen: self.seen,
            cut: self.cut,
            gap: self.gap,
            complete,
        }
    }
}

/// How a body's bytes were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BodyKind {
    /// JSON (`application/json`, `+json`, or sniffed).
    Json,
    /// `application/x-www-form-urlencoded` (or sniffed).
    Form,
    /// `multipart/form-data`.
    Multipart,
    /// XML (`text/xml`, `application/xml`, `+xml`).
    Xml,
    /// Plain text (any other text, or an unknown type that looks like text).
    Text,
    /// Not parsed: binary, an unknown encoding, or nothing collected.
    Unparsed,
}

impl BodyKind {
    /// The kind as written in output: `json`, `form`, `multipart`, `xml`,
    /// `text`, `unparsed`.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyKind::Json => "json",
            BodyKind::Form => "form",
            BodyKind::Multipart => "multipart",
            BodyKind::Xml => "xml",
            BodyKind::Text => "text",
            BodyKind::Unparsed => "unparsed",
        }
    }
}

/// One field of a body: its key path and its value, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyField {
    /// Form and multipart: the field name; JSON: the JSON pointer
    /// (`/user/phone`, `/to/0`); XML: the element path (`/req/msisdn`,
    /// `/req/@to` for an attribute); multipart file names: the field name
    /// and `;filename`; plain text: empty.
    pub path: String,
    /// The value: form values percent-decoded (`+` a space), JSON strings
    /// unescaped, JSON numbers as written, texts as UTF-8 (invalid bytes as
    /// U+FFFD).
    pub value: String,
}

/// A request body as read: how it came and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// Bytes framed on the wire (Content-Length or the chunks' sizes).
    pub length: u64,
    /// How it was parsed.
    pub kind: BodyKind,
    /// The content codings undone (`gzip`, `br`, ...), as sent.
    pub encoding: Option<String>,
    /// Not all of it was read: cut at a limit (bytes or decoded output) or
    /// the budget, or it ended before its framing said.
    pub truncated: bool,
    /// A gap fell in it: only what came before was read.
    pub gap: bool,
    /// Its fields, in body order (at most [`parse::MAX_FIELDS`]).
    pub fields: Vec<BodyField>,
    /// The first 8 bytes of the SHA-256 of the whole body as framed (chunks
    /// joined, content coding kept), when all of it was collected: what
    /// `diff` pairs identical requests with different bodies by.
    pub digest: Option<[u8; 8]>,
}

/// True for content types whose bodies are never collected: their bytes
/// carry no text field a number could be read from (or only through a
/// format not parsed here).
pub fn is_binary_type(content_type: &str) -> bool {
    let t = media_type(content_type);
    let prefix = |p: &str| t.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    prefix("image/")
        || prefix("audio/")
        || prefix("video/")
        || prefix("font/")
        || [
            "application/octet-stream",
            "application/zip",
            "application/gzip",
            "application/x-gzip",
            "application/pdf",
            "application/x-protobuf",
            "application/protobuf",
            "application/x-google-protobuf",
            "application/grpc",
            "application/vnd.google.protobuf",
            "application/x-tar",
            "application/wasm",
            "application/x-7z-compressed",
            "application/vnd.android.package-archive",
        ]
        .iter()
        .any(|b| t.eq_ignore_ascii_case(b))
}

/// The media type of a `Content-Type` value, without parameters, trimmed.
pub fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// The first header named `name` (any case).
fn header<'h>(headers: &'h [Header], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// Whether the body after these headers is worth collecting: not a binary
/// content type.
pub fn wanted(headers: &[Header]) -> bool {
    !header(headers, "content-type").is_some_and(is_binary_type)
}

/// The first 8 bytes of the SHA-256 of `bytes` ([`Body::digest`]).
pub fn digest(bytes: &[u8]) -> [u8; 8] {
    use sha2::Digest as _;
    let full: [u8; 32] = sha2::Sha256::digest(bytes).into();
    let mut short = [0u8; 8];
    short.copy_from_slice(full.get(..8).unwrap_or(&[0; 8]));
    short
}

/// A [`Body::digest`] as written in JSON lines: lower-case hex.
pub fn digest_hex(digest: &[u8; 8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes and parses a collected body: `limit` bounds the decoded bytes.
pub fn read_body(raw: RawBody, headers: &[Header], limit: usize, stats: &mut BodyStats) -> Body {
    stats.bodies = stats.bodies.saturating_add(1);
    stats.bytes = stats.bytes.saturating_add(raw.seen);
    match raw.cut {
        Some(BodyCut::Limit) => stats.cut_at_limit = stats.cut_at_limit.saturating_add(1),
        Some(BodyCut::Memcap) => stats.cut_by_memcap = stats.cut_by_memcap.saturating_add(1),
        None => {}
    }
    if raw.gap {
        stats.gaps = stats.gaps.saturating_add(1);
    }
    let unfinished = !raw.complete && !raw.gap;
    if unfinished {
        stats.unfinished = stats.unfinished.saturating_add(1);
    }
    let mut whole = raw.complete && raw.cut.is_none() && !raw.gap;
    let mut body = Body {
        length: raw.seen,
        kind: BodyKind::Unparsed,
        encoding: None,
        truncated: raw.cut.is_some() || unfinished,
        gap: raw.gap,
        fields: Vec::new(),
        digest: whole.then(|| digest(&raw.bytes)),
    };
    let encoding = header(headers, "content-encoding")
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"));
    let bytes = match encoding {
        None => raw.bytes,
        Some(codings) => {
            body.encoding = Some(codings.to_string());
            match decode::decode_all(codings, &raw.bytes, limit) {
                Err(decode::Unsupported) => {
                    stats.unsupported_encoding = stats.unsupported_encoding.saturating_add(1);
                    return body;
                }
                Ok(d) => {
                    stats.decoded = stats.decoded.saturating_add(1);
                    if d.over_limit {
                        stats.decoded_over_limit = stats.decoded_over_limit.saturating_add(1);
                        body.truncated = true;
                        whole = false;
                    }
                    if d.error {
                        // A compressed body cut short ends in an error too:
                        // counted only when the body was whole.
                        if whole {
                            stats.decode_errors = stats.decode_errors.saturating_add(1);
                        }
                        whole = false;
                    }
                    d.bytes
                }
            }
        }
    };
    let content_type = header(headers, "content-type").unwrap_or("");
    let outcome = parse::parse(content_type, &bytes, whole, &mut body.fields);
    body.kind = outcome.kind;
    let n = match outcome.kind {
        BodyKind::Json => &mut stats.json,
        BodyKind::Form => &mut stats.form,
        BodyKind::Multipart => &mut stats.multipart,
        BodyKind::Xml => &mut stats.xml,
        BodyKind::Text => &mut stats.text,
        BodyKind::Unparsed => &mut stats.skipped,
    };
    *n = n.saturating_add(1);
    if outcome.too_deep {
        stats.too_deep = stats.too_deep.saturating_add(1);
    }
    if outcome.fields_over_limit {
        stats.fields_over_limit = stats.fields_over_limit.saturating_add(1);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> Header {
        Header {
            name: name.to_string(),
            value: value.to_string(),
        }
    }

    #[test]
    fn collector_keeps_a_prefix_within_its_room() {
        let mut c = BodyCollector::new();
        c.push(b"abcdef", 100, 4);
        c.push(b"gh", 100, 4);
        assert!(c.held() <= 4);
        let raw = c.finish(true);
        assert_eq!((raw.bytes.as_slice(), raw.seen), (&b"abcd"[..], 8));
        assert_eq!(raw.cut, Some(BodyCut::Limit));
        let mut c = BodyCollector::new();
        c.push(b"abcdef", 3, 10);
        assert_eq!(c.finish(true).cut, Some(BodyCut::Memcap));
        let mut c = BodyCollector::new();
        c.push(b"ab", 100, 100);
        c.gap(5);
        c.push(b"cd", 100, 100);
        let raw = c.finish(true);
        assert_eq!(
            (raw.bytes.as_slice(), raw.seen, raw.gap),
            (&b"ab"[..], 9, true)
        );
    }

    #[test]
    fn binary_types_are_not_collected() {
        assert!(!wanted(&[h("Content-Type", "image/png")]));
        assert!(!wanted(&[h(
            "content-type",
            "Application/Octet-Stream; x=1"
        )]));
        assert!(wanted(&[h("Content-Type", "application/json")]));
        assert!(wanted(&[]));
    }

    #[test]
    fn a_form_body_is_read_and_counted() {
        let mut stats = BodyStats::default();
        let raw = RawBody {
            bytes: b"to=%2B447700900123&msg=hi+there".to_vec(),
            seen: 31,
            complete: true,
            ..RawBody::default()
        };
        let body = read_body(
            raw,
            &[h("Content-Type", "application/x-www-form-urlencoded")],
            1 << 16,
            &mut stats,
        );
        assert_eq!(body.kind, BodyKind::Form);
        assert_eq!(body.fields[0].value, "+447700900123");
        assert_eq!(body.fields[1].value, "hi there");
        assert_eq!((stats.bodies, stats.form, stats.bytes), (1, 1, 31));
    }

    #[test]
    fn unknown_encodings_are_not_parsed() {
        let mut stats = BodyStats::default();
        let raw = RawBody {
            bytes: b"phone=447700900123".to_vec(),
            seen: 18,
            complete: true,
            ..RawBody::default()
        };
        let body = read_body(raw, &[h("Content-Encoding", "lzma")], 1 << 16, &mut stats);
        assert_eq!(body.kind, BodyKind::Unparsed);
        assert!(body.fields.is_empty());
        assert_eq!(stats.unsupported_encoding, 1);
    }
}
