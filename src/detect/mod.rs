//! Leak detection: decides what in one request leaks a subscriber's phone
//! number (MSISDN) or another subscriber identifier.
//!
//! In: one request (method, target, headers in wire order). Out: [`Leak`]s,
//! headers first in header order, then the request target, then the user's
//! known numbers. Four kinds of finding:
//! - [`LeakKind::MsisdnHeader`] and [`LeakKind::SubscriberIdHeader`]: by
//!   header name (the [`catalogue`] and the documented suffix rule); the
//!   value decides the confidence and whether a [`PhoneNumber`] was
//!   recovered (also from a hex or base64 value). Empty, `-`, `null` and
//!   `unknown` values are not leaks.
//! - [`LeakKind::PhoneNumberValue`]: a phone number in any other header
//!   value, a cookie pair, the query string or path of the request target,
//!   or a URL-valued header such as `Referer` ([`scan`]). A digit run alone
//!   is never enough: it needs a `+`/`00`/`tel:` form or a phone-like key.
//! - [`LeakKind::KnownNumber`]: a number the user gave, in any common form or
//!   encoding, anywhere in the request target or header values ([`known`]).
//!
//! One text span yields one finding: a known-number match that overlaps an
//! earlier finding in the same place is dropped.
//!
//! Privacy: a recovered number is only ever shown masked ([`mask_text`],
//! [`PhoneNumber::masked`], [`mask_value`]); `Debug` of a `PhoneNumber` is
//! masked too. See `docs/headers.md` and `docs/detection.md`.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

pub mod catalogue;
pub mod discover;
pub mod known;
mod names;
pub mod number;
pub mod scan;

pub use known::{BuildError, Encoding, KnownMatch, KnownNumbers};
pub use number::{Form, Parsed, PhoneNumber, Region};
pub use scan::{Where, is_phone_key};

use std::ops::Range;

use base64::Engine as _;

use crate::http::{Header, Request};
use number::parse;
use scan::{Candidate, Scanner, is_url};

/// What a leak is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeakKind {
    /// A header that carries the phone number (MSISDN/MDN), clear or encoded.
    MsisdnHeader,
    /// A header that carries another subscriber or device identifier (IMSI,
    /// IMEI, opaque tracking ID).
    SubscriberIdHeader,
    /// A phone number in some other header value, a cookie pair, the query
    /// string or path of the request target, or a `Referer`'s query.
    PhoneNumberValue,
    /// One of the user's own numbers (`--number`), in any form or encoding.
    KnownNumber,
}

impl LeakKind {
    /// The kind as written in output: `msisdn-header`,
    /// `subscriber-id-header`, `phone-number-value`, `known-number`.
    pub fn as_str(self) -> &'static str {
        match self {
            LeakKind::MsisdnHeader => "msisdn-header",
            LeakKind::SubscriberIdHeader => "subscriber-id-header",
            LeakKind::PhoneNumberValue => "phone-number-value",
            LeakKind::KnownNumber => "known-number",
        }
    }
}

/// How sure the detector is that a finding is a real leak.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Known name, but the value did not show what was expected; or a
    /// national-only number that no region places.
    #[default]
    Low,
    /// Known name with a plausible value, or weaker evidence for the name.
    Medium,
    /// Well-evidenced name with a value of the expected shape.
    High,
}

impl Confidence {
    /// The confidence as written in output: `low`, `medium`, `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    /// Reads `low`, `medium` or `high` (any case).
    pub fn parse(s: &str) -> Option<Confidence> {
        [Confidence::Low, Confidence::Medium, Confidence::High]
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }
}

/// The text of a request a finding is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    /// The value of the header with this index in the request's header list.
    Header(usize),
    /// The request target (the URI of the request line).
    Target,
    /// The value of the body field with this index in the request's body.
    Body(usize),
}

/// The name written as `header` for findings in the request target.
pub const TARGET_NAME: &str = "(request-target)";

/// The name written as `header` for findings in the request body.
pub const BODY_NAME: &str = "(request-body)";

/// One finding in one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// The text it is in: a header value or the request target.
    pub place: Place,
    /// Where in the request, for output: header, cookie, query, uri.
    pub location: Where,
    /// Byte range of the cookie name or parameter key in the place's text,
    /// when the number was the value of one.
    pub key: Option<Range<usize>>,
    /// Byte range of what leaked in the place's text (the number as
    /// written, the encoded token, or the whole value for identifiers).
    pub span: Range<usize>,
    /// What leaked.
    pub kind: LeakKind,
    /// How sure the detector is.
    pub confidence: Confidence,
    /// The phone number recovered, if any.
    pub number: Option<PhoneNumber>,
    /// How the number was written, when a number (or national-only digits)
    /// was read.
    pub form: Option<Form>,
    /// How it was encoded, when it was (`url`, `base64`, `hex`, digests).
    pub encoding: Option<Encoding>,
}

impl Leak {
    /// The index of the header it is in; `None` for the request target
    /// and the body.
    pub fn header_index(&self) -> Option<usize> {
        match self.place {
            Place::Header(i) => Some(i),
            Place::Target | Place::Body(_) => None,
        }
    }

    /// The text of the place this leak is in, among a request's target and
    /// headers (empty for a body field: see [`Leak::text_in`]).
    pub fn place_text<'r>(&self, uri: &'r str, headers: &'r [Header]) -> &'r str {
        match self.place {
            Place::Header(i) => headers.get(i).map_or("", |h| h.value.as_str()),
            Place::Target => uri,
            Place::Body(_) => "",
        }
    }

    /// The text of the place this leak is in: a header value, the request
    /// target or a body field's value.
    pub fn text_in<'r>(&self, request: &'r Request) -> &'r str {
        match self.place {
            Place::Body(i) => body_field(request, i).map_or("", |f| f.value.as_str()),
            _ => self.place_text(&request.uri, &request.headers),
        }
    }

    /// The name shown as `header`: the header's name in wire case,
    /// `(request-target)` or `(request-body)`.
    pub fn place_name<'r>(&self, headers: &'r [Header]) -> &'r str {
        match self.place {
            Place::Header(i) => headers.get(i).map_or("", |h| h.name.as_str()),
            Place::Target => TARGET_NAME,
            Place::Body(_) => BODY_NAME,
        }
    }

    /// The cookie name or parameter key, if the number was the value of one.
    pub fn key_text<'r>(&self, uri: &'r str, headers: &'r [Header]) -> Option<&'r str> {
        let key = self.key.clone()?;
        self.place_text(uri, headers).get(key)
    }

    /// [`Leak::key_text`] for any place: for a body field, its key path
    /// (`/user/phone`), or the key inside a plain-text body.
    pub fn key_in<'r>(&self, request: &'r Request) -> Option<&'r str> {
        match self.place {
            Place::Body(i) => {
                let field = body_field(request, i)?;
                if field.path.is_empty() {
                    field.value.get(self.key.clone()?)
                } else {
                    Some(field.path.as_str())
                }
            }
            _ => self.key_text(&request.uri, &request.headers),
        }
    }
}

/// The `i`-th field of a request's body.
fn body_field(request: &Request, i: usize) -> Option<&crate::body::BodyField> {
    request.body.as_ref()?.fields.get(i)
}

/// The key that says what a body field holds: the last segment of its path
/// that is not an array index (`/to/0` → `to`), without an XML attribute's `@`.
fn field_key(path: &str) -> &str {
    path.rsplit(['/', ';'])
        .find(|s| !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit()))
        .map_or("", |s| s.trim_start_matches('@'))
}

/// Detects leaks in requests. Immutable after construction: build once and
/// share (it is `Send + Sync`).
#[derive(Debug, Clone, Default)]
pub struct Detector {
    region: Option<Region>,
    known: KnownNumbers,
}

/// How a header name was recognised.
struct NameMatch {
    kind: LeakKind,
    tier: u8,
    by_value: bool,
}

fn name_match(info: &names::NameInfo) -> Option<NameMatch> {
    if let Some(e) = info.entry {
        return Some(NameMatch {
            kind: e.kind,
            tier: e.tier,
            by_value: e.by_value,
        });
    }
    info.suffix.then_some(NameMatch {
        kind: LeakKind::MsisdnHeader,
        tier: 2,
        by_value: false,
    })
}

/// Values that mean "nothing here": empty, `-`, `null`, `unknown`, or
/// without any letter or digit.
fn is_blank(value: &str) -> bool {
    value.is_empty()
        || value == "-"
        || value.eq_ignore_ascii_case("null")
        || value.eq_ignore_ascii_case("unknown")
        || !value.chars().any(char::is_alphanumeric)
}

/// Byte ranges (within `value`) of the pieces a catalogued value is read
/// in: the whole value, each `,`/`;`-separated part (when there are
/// several), each whitespace-separated token of a part.
fn pieces(value: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let base = value.as_ptr() as usize;
    let offset = move |s: &str| {
        let start = (s.as_ptr() as usize).saturating_sub(base);
        start..start + s.len()
    };
    let several = value.contains([',', ';']);
    std::iter::once(0..value.len()).chain(value.split([',', ';']).flat_map(move |part| {
        let part = part.trim();
        let whole = several.then(|| offset(part));
        let tokens = part
            .split_whitespace()
            .filter(move |t| *t != part)
            .map(offset);
        whole.into_iter().chain(tokens)
    }))
}

/// Finds a number in a catalogued header value: the first piece that reads
/// as a placed number, else the first national-only one.
fn find_number(value: &str, region: Option<Region>) -> Option<(Range<usize>, Parsed)> {
    let mut national_only = None;
    for range in pieces(value) {
        let Some(parsed) = value.get(range.clone()).and_then(|p| parse(p, region)) else {
            continue;
        };
        if parsed.number.is_some() {
            return Some((range, parsed));
        }
        national_only.get_or_insert((range, parsed));
    }
    national_only
}

/// A hex or base64 value that decodes to a written number
/// (`343437373030393030313233`, `NDQ3NzAwOTAwMTIz`).
fn decode_number(value: &str, region: Option<Region>) -> Option<(Parsed, Encoding)> {
    let mut buf = [0u8; 48];
    let bytes = value.as_bytes();
    let n = if bytes.len().is_multiple_of(2) && bytes.iter().all(u8::is_ascii_hexdigit) {
        let n = bytes.len() / 2;
        for (k, pair) in bytes.chunks_exact(2).enumerate() {
            let digit = |b: &u8| char::from(*b).to_digit(16);
            if let ([h, l], Some(slot)) = (pair, buf.get_mut(k)) {
                *slot = u8::try_from(digit(h)? * 16 + digit(l)?).ok()?;
            } else {
                return None;
            }
        }
        Some((n, Encoding::Hex))
    } else {
        None
    };
    let (n, encoding) = match n {
        Some(found) => found,
        None => {
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
            );
            (engine.decode_slice(bytes, &mut buf).ok()?, Encoding::Base64)
        }
    };
    let decoded = std::str::from_utf8(buf.get(..n)?).ok()?;
    if !decoded
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b' ' | b'-'))
    {
        return None;
    }
    parse(decoded, region)
        .filter(|p| p.number.is_some())
        .map(|p| (p, encoding))
}

/// True for 14–16 digits (dashes and spaces allowed between): the shape of an
/// IMSI (15), IMEI (15, or 14 without check digit) or IMEI-SV (16).
fn imsi_imei_shaped(value: &str) -> bool {
    let mut digits = 0usize;
    for c in value.chars() {
        match c {
            '0'..='9' => digits += 1,
            '-' | ' ' => {}
            _ => return false,
        }
    }
    (14..=16).contains(&digits)
}

/// Pushes `leak` unless it overlaps a finding already made in the same place.
fn push_new(leaks: &mut Vec<Leak>, leak: Leak) {
    let overlaps = leaks.iter().any(|l| {
        l.place == leak.place && l.span.start < leak.span.end && leak.span.start < l.span.end
    });
    if !overlaps {
        leaks.push(leak);
    }
}

impl Detector {
    /// A detector over the built-in catalogue, with no region and no known
    /// number.
    pub fn new() -> Self {
        Detector::default()
    }

    /// A detector that places national numbers in `region` and looks for
    /// the `known` numbers.
    pub fn with(region: Option<Region>, known: KnownNumbers) -> Self {
        Detector { region, known }
    }

    /// The region national numbers are placed in.
    pub fn region(&self) -> Option<Region> {
        self.region
    }

    /// The user's numbers looked for.
    pub fn known(&self) -> &KnownNumbers {
        &self.known
    }

    /// Inspects one request; returns its leaks (an empty, unallocated `Vec`
    /// when there are none).
    pub fn inspect(&self, request: &Request) -> Vec<Leak> {
        let mut leaks = self.inspect_parts(&request.method, &request.uri, &request.headers);
        if let Some(body) = &request.body {
            self.inspect_body(body, &mut leaks);
        }
        leaks
    }

    /// The body's fields, by the query-string rules: a phone-like key (the
    /// last named segment of the field's path) reads its value
    /// permissively, any other value only for marked numbers (`+`, `00`,
    /// `tel:`); a plain-text body (a field without a path) by the rules for
    /// header values; then the user's known numbers in every field.
    pub fn inspect_body(&self, body: &crate::body::Body, leaks: &mut Vec<Leak>) {
        for (i, field) in body.fields.iter().enumerate() {
            let text = field.value.as_str();
            if scan::too_few_digits(text) {
                continue;
            }
            let place = Place::Body(i);
            let mut push = |c: Candidate| leaks.push(value_leak(place, c));
            let mut scan = Scanner::new(text, self.region, &mut push);
            let whole = 0..text.len();
            if field.path.is_empty() {
                if !scan::cannot_hold_marked_or_keyed(text) {
                    scan.pairs(whole, b",;&\n", Where::Body);
                }
            } else if is_phone_key(field_key(&field.path)) {
                if !scan.keyed_value(whole.clone(), None, Where::Body) {
                    scan.markers(whole, None, Where::Body);
                }
            } else {
                scan.markers(whole, None, Where::Body);
            }
        }
        if self.known.is_empty() {
            return;
        }
        for (i, field) in body.fields.iter().enumerate() {
            self.known.find(&field.value, |m| {
                let number = self.known.numbers().get(m.number).cloned();
                push_new(
                    leaks,
                    Leak {
                        place: Place::Body(i),
                        location: Where::Body,
                        key: None,
                        span: m.span,
                        kind: LeakKind::KnownNumber,
                        confidence: Confidence::High,
                        number,
                        form: Some(m.form),
                        encoding: m.encoding,
                    },
                );
            });
        }
    }

    /// Inspects a request given by its parts: the method (unused today), the
    /// request target and the headers in wire order.
    pub fn inspect_parts(&self, _method: &str, uri: &str, headers: &[Header]) -> Vec<Leak> {
        let mut leaks = Vec::new();
        for (index, h) in headers.iter().enumerate() {
            let place = Place::Header(index);
            let info = names::classify_header(&h.name);
            if let Some(m) = name_match(&info) {
                let value = h.value.trim();
                if !is_blank(value) {
                    let offset = h.value.len() - h.value.trim_start().len();
                    if let Some(leak) = judge(place, &m, value, offset, self.region) {
                        leaks.push(leak);
                    }
                }
                continue;
            }
            let text = h.value.as_str();
            // Most values (`keep-alive`, `gzip, deflate`, a host name) have
            // too few digits for any number: nothing to scan.
            if scan::too_few_digits(text) {
                continue;
            }
            let first = leaks.len();
            let mut push = |c: Candidate| leaks.push(value_leak(place, c));
            let mut scan = Scanner::new(text, self.region, &mut push);
            if info.cookie {
                scan.pairs(0..text.len(), b";", Where::Cookie);
            } else if is_url(text) {
                scan.url(0..text.len());
            } else if info.phone {
                scan.keyed_header(0..text.len());
            } else if info.subscriber {
                scan.pairs(0..text.len(), b",;&", Where::Header);
                // A name that says subscriber data: bare international numbers
                // count too, where nothing was found yet.
                let mut bare = |c: Candidate| {
                    let new = leaks
                        .get(first..)
                        .unwrap_or_default()
                        .iter()
                        .all(|l| l.span.end <= c.span.start || c.span.end <= l.span.start);
                    if new {
                        leaks.push(value_leak(place, c));
                    }
                };
                Scanner::new(text, self.region, &mut bare).bare_numbers(0..text.len());
            } else if !scan::cannot_hold_marked_or_keyed(text) {
                scan.pairs(0..text.len(), b",;&", Where::Header);
            }
        }
        let mut push = |c: Candidate| leaks.push(value_leak(Place::Target, c));
        Scanner::new(uri, self.region, &mut push).url(0..uri.len());
        if !self.known.is_empty() {
            self.known_numbers(uri, headers, &mut leaks);
        }
        leaks
    }

    fn known_numbers(&self, uri: &str, headers: &[Header], leaks: &mut Vec<Leak>) {
        let texts = headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                (
                    Place::Header(i),
                    h.value.as_str(),
                    h.name.eq_ignore_ascii_case("cookie"),
                )
            })
            .chain(std::iter::once((Place::Target, uri, false)));
        for (place, text, cookie) in texts {
            let query_at = match place {
                Place::Target => Some(uri.find('?').unwrap_or(uri.len())),
                Place::Header(_) if is_url(text) => Some(text.find('?').unwrap_or(text.len())),
                Place::Header(_) | Place::Body(_) => None,
            };
            self.known.find(text, |m| {
                let location = match query_at {
                    _ if cookie => Where::Cookie,
                    Some(q) if m.span.start > q => Where::Query,
                    Some(_) => Where::Uri,
                    None => Where::Header,
                };
                let number = self.known.numbers().get(m.number).cloned();
                push_new(
                    leaks,
                    Leak {
                        place,
                        location,
                        key: None,
                        span: m.span,
                        kind: LeakKind::KnownNumber,
                        confidence: Confidence::High,
                        number,
                        form: Some(m.form),
                        encoding: m.encoding,
                    },
                );
            });
        }
    }
}

/// A value-scan candidate as a finding. Confidence: a phone-like key with an
/// international number is high; a phone-like key with a number placed by
/// `--region` (or the `0`-international form), or a marked number (`+`,
/// `00`, `tel:`) without such a key, is medium; national-only digits under a
/// phone-like key are low.
fn value_leak(place: Place, c: Candidate) -> Leak {
    let placed = c.parsed.number.is_some();
    let confidence = match (c.keyed, placed, c.parsed.form) {
        (true, true, Form::National | Form::ZeroInternational) => Confidence::Medium,
        (true, true, _) => Confidence::High,
        (false, true, _) => Confidence::Medium,
        (_, false, _) => Confidence::Low,
    };
    Leak {
        place,
        location: c.location,
        key: c.key,
        span: c.span,
        kind: LeakKind::PhoneNumberValue,
        confidence,
        number: c.parsed.number,
        form: Some(c.parsed.form),
        encoding: c.url_encoded.then_some(Encoding::Url),
    }
}

/// Applies the value rules to a header whose name matched. `value` is the
/// trimmed value, starting at byte `offset` of the header's value.
fn judge(
    place: Place,
    m: &NameMatch,
    value: &str,
    offset: usize,
    region: Option<Region>,
) -> Option<Leak> {
    let whole = offset..offset + value.len();
    let leak = |kind, confidence, span: Range<usize>, parsed: Option<Parsed>, encoding| Leak {
        place,
        location: Where::Header,
        key: None,
        span,
        kind,
        confidence,
        form: parsed.as_ref().map(|p| p.form),
        number: parsed.and_then(|p| p.number),
        encoding,
    };
    let shifted = |r: Range<usize>| r.start + offset..r.end + offset;
    if m.by_value {
        // x-up-subno: an MSISDN at some operators, an opaque ID at others.
        let found = find_number(value, None).filter(|(_, p)| {
            p.number
                .as_ref()
                .is_some_and(|n| (8..=15).contains(&n.digits().len()))
                && p.form != Form::ZeroInternational
        });
        if let Some((range, parsed)) = found {
            let span = shifted(range);
            return Some(leak(
                LeakKind::MsisdnHeader,
                Confidence::Medium,
                span,
                Some(parsed),
                None,
            ));
        }
        let c = subscriber_confidence(value);
        return Some(leak(LeakKind::SubscriberIdHeader, c, whole, None, None));
    }
    let tiered = |form: Form| match form {
        Form::National | Form::ZeroInternational => Confidence::Medium,
        _ if m.tier == 1 => Confidence::High,
        _ => Confidence::Medium,
    };
    Some(match m.kind {
        LeakKind::SubscriberIdHeader => {
            let c = subscriber_confidence(value);
            leak(LeakKind::SubscriberIdHeader, c, whole, None, None)
        }
        _ => match find_number(value, region) {
            Some((range, parsed)) if parsed.number.is_some() => {
                let c = tiered(parsed.form);
                leak(
                    LeakKind::MsisdnHeader,
                    c,
                    shifted(range),
                    Some(parsed),
                    None,
                )
            }
            found => match decode_number(value, region) {
                Some((parsed, encoding)) => {
                    let c = tiered(parsed.form);
                    leak(
                        LeakKind::MsisdnHeader,
                        c,
                        whole,
                        Some(parsed),
                        Some(encoding),
                    )
                }
                None => {
                    let form = found.map(|(_, p)| p);
                    leak(LeakKind::MsisdnHeader, Confidence::Low, whole, form, None)
                }
            },
        },
    })
}

fn subscriber_confidence(value: &str) -> Confidence {
    if imsi_imei_shaped(value) {
        Confidence::High
    } else {
        Confidence::Medium
    }
}

/// Masks a leaking header value for output.
///
/// With a number: every digit of that number in the value becomes `*`
/// except the prefix up to and including the country code as written (`+44`,
/// `0044`, `44`, `tel:+44-`) and the last three digits; punctuation, other
/// characters and unrelated digits (an IP after a comma) are kept:
/// `447700900123` → `44*******123`, `+44 7700 900123` → `+44 **** ***123`,
/// `tel:+44-7700-900123` → `tel:+44-****-***123`, `00447700900123` →
/// `0044*******123`. National-form repetitions of the number are masked too.
/// If the number cannot be found in the value, the whole value is masked as
/// without a number.
///
/// Without a number (opaque IDs, IMSI, tokens): every character except the
/// last three becomes `*`, keeping the length; values of three or fewer
/// characters become all `*`.
pub fn mask_value(value: &str, number: Option<&PhoneNumber>) -> String {
    number
        .and_then(|n| number::mask_number_in(value, n))
        .unwrap_or_else(|| number::mask_opaque(value))
}

/// How many leading digits of a written number stay visible: the `00` or
/// `0` prefix and the country code, or a national trunk prefix.
fn visible_front(leak: &Leak) -> usize {
    let Some(n) = &leak.number else { return 0 };
    let cc = n.country_code().len();
    match leak.form {
        Some(Form::DoubleZero) => 2 + cc,
        Some(Form::ZeroInternational) => 1 + cc,
        Some(Form::National) => 0,
        _ => cc,
    }
}

/// Masks the text of one finding (its span).
fn mask_span(text: &str, leak: &Leak) -> String {
    if leak.encoding.is_some_and(Encoding::is_opaque) {
        return number::mask_opaque(text);
    }
    match &leak.number {
        Some(n) => number::mask_number_in(text, n)
            .unwrap_or_else(|| number::mask_digits(text, visible_front(leak))),
        None if leak.kind == LeakKind::PhoneNumberValue => number::mask_digits(text, 0),
        None => number::mask_opaque(text),
    }
}

/// Masks a text of a request (a header value or the request target) for
/// output: the span of every finding in `place` (per [`mask_value`]'s rules;
/// encoded tokens and identifiers wholly but their last three characters),
/// then every other occurrence in the text of any number found in the
/// request. Text that holds nothing found is returned unchanged.
pub fn mask_text(text: &str, place: Place, leaks: &[&Leak]) -> String {
    let mut spans: Vec<&Leak> = leaks.iter().copied().filter(|l| l.place == place).collect();
    spans.sort_by_key(|l| (l.span.start, std::cmp::Reverse(l.span.end)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0usize;
    for leak in spans {
        let (start, end) = (leak.span.start.max(at), leak.span.end);
        let (Some(before), Some(inner)) = (text.get(at..start), text.get(start..end)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(&mask_span(inner, leak));
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    for n in leaks.iter().filter_map(|l| l.number.as_ref()) {
        if let Some(masked) = number::mask_number_in(&out, n) {
            out = masked;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use number::parse_international;

    fn h(name: &str, value: &str) -> Header {
        Header {
            name: name.to_string(),
            value: value.to_string(),
        }
    }

    fn inspect(headers: &[Header]) -> Vec<Leak> {
        Detector::new().inspect_parts("GET", "/", headers)
    }

    fn one(name: &str, value: &str) -> Option<Leak> {
        let mut v = inspect(&[h(name, value)]);
        assert!(v.len() <= 1);
        v.pop()
    }

    fn num(v: &str) -> PhoneNumber {
        parse_international(v).unwrap()
    }

    fn body_request(fields: &[(&str, &str)]) -> Request {
        Request {
            ts: crate::time::Timestamp(0),
            client: "10.0.0.1:40000".parse().unwrap(),
            server: "10.0.0.2:80".parse().unwrap(),
            flow_id: 1,
            method: "POST".into(),
            uri: "/".into(),
            version: "HTTP/1.1".into(),
            headers: Vec::new(),
            truncated: false,
            flow_order: (0, 1),
            tunnel: None,
            tls: None,
            stream_id: None,
            pushed_on: None,
            authority: None,
            answer_awaited: false,
            body: Some(Box::new(crate::body::Body {
                length: 0,
                kind: crate::body::BodyKind::Json,
                encoding: None,
                truncated: false,
                gap: false,
                digest: None,
                fields: fields
                    .iter()
                    .map(|(p, v)| crate::body::BodyField {
                        path: p.to_string(),
                        value: v.to_string(),
                    })
                    .collect(),
            })),
        }
    }

    #[test]
    fn body_fields_by_the_query_rules() {
        let r = body_request(&[
            ("/user/phone", "447700900123"),
            ("/to/0", "+44 7700 900124"),
            ("/order/id", "447700900125"),
            ("/msisdns/1", "447700900126"),
            ("hotel", "447700900127"),
            ("", "call me on +447700900128, thanks"),
            ("/ts", "00441234"),
        ]);
        let leaks = Detector::new().inspect(&r);
        let got: Vec<(Place, Option<&str>, Confidence)> = leaks
            .iter()
            .map(|l| (l.place, l.key_in(&r), l.confidence))
            .collect();
        assert_eq!(
            got,
            [
                (Place::Body(0), Some("/user/phone"), Confidence::High),
                (Place::Body(1), Some("/to/0"), Confidence::Medium),
                (Place::Body(3), Some("/msisdns/1"), Confidence::High),
                (Place::Body(5), None, Confidence::Medium),
            ]
        );
        assert!(leaks.iter().all(|l| l.location == Where::Body));
        assert_eq!(leaks[0].place_name(&r.headers), BODY_NAME);
        assert_eq!(leaks[3].text_in(&r), "call me on +447700900128, thanks");
        let masked = mask_text(leaks[0].text_in(&r), Place::Body(0), &[&leaks[0]]);
        assert_eq!(masked, "44*******123");
        // Known numbers in any field, in any encoding.
        let known = KnownNumbers::new(vec![num("+447700900125")]).unwrap();
        let d = Detector::with(None, known);
        let leaks = d.inspect(&r);
        assert!(
            leaks
                .iter()
                .any(|l| l.place == Place::Body(2) && l.kind == LeakKind::KnownNumber)
        );
    }

    #[test]
    fn detector_is_send_sync_default() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Detector>();
        assert_send_sync::<Leak>();
        let _ = Detector::default();
    }

    #[test]
    fn as_str_and_serde_names() {
        assert_eq!(LeakKind::MsisdnHeader.as_str(), "msisdn-header");
        assert_eq!(
            LeakKind::SubscriberIdHeader.as_str(),
            "subscriber-id-header"
        );
        assert_eq!(Confidence::Low.as_str(), "low");
        assert_eq!(Confidence::Medium.as_str(), "medium");
        assert_eq!(Confidence::High.as_str(), "high");
        assert_eq!(
            serde_json::to_string(&LeakKind::SubscriberIdHeader).unwrap(),
            "\"subscriber-id-header\""
        );
        assert_eq!(
            serde_json::to_string(&LeakKind::MsisdnHeader).unwrap(),
            "\"msisdn-header\""
        );
        assert_eq!(
            serde_json::to_string(&Confidence::High).unwrap(),
            "\"high\""
        );
        assert!(Confidence::Low < Confidence::Medium && Confidence::Medium < Confidence::High);
    }

    #[test]
    fn subscriber_names_take_bare_international_numbers() {
        for (name, value) in [
            ("X-Caller", "447700900123"),
            ("X-Subscriber-Info", "447700900123, 10.1.2.3"),
            ("X-Calling-Station-Id", "id=ab12; 447700900123"),
            ("Contact-Number", "\"447700900123\""),
        ] {
            let l = one(name, value).unwrap_or_else(|| panic!("{name}: {value}"));
            assert_eq!(l.kind, LeakKind::PhoneNumberValue, "{name}");
            assert_eq!(l.confidence, Confidence::Medium, "{name}");
            assert_eq!(l.form, Some(Form::International), "{name}");
            assert_eq!(l.number, Some(num("+447700900123")), "{name}");
            assert_eq!(&value[l.span.clone()], "447700900123", "{name}");
        }
        // A marked number is found once, by the marker rule.
        let l = one("X-Contact", "+447700900123").unwrap();
        assert_eq!(l.form, Some(Form::Plus));
        for (name, value) in [
            // Not a subscriber-data name: a bare digit run is never enough.
            ("X-Request-Id", "447700900123"),
            ("X-Device-Info", "447700900123"),
            // Not of a valid international shape, or not bare.
            ("X-Caller", "1362398400"),
            ("X-Caller", "1362398400123"),
            ("X-Subscriber-Id", "0447700900123"),
            ("X-Subscriber-Id", "4477009001234567"),
            ("X-Subscriber-Id", "uid447700900123"),
            ("X-Contact", "ts=447700900123"),
            ("X-Subscriber-Info", "ts=12025550181;plan=prepaid"),
            // The same value under a name that says nothing of subscribers.
            ("X-Request-Info", "id=12025550181;plan=prepaid"),
            ("X-Session", "id=12025550181"),
        ] {
            assert_eq!(one(name, value), None, "{name}: {value}");
        }
        // A bare number as the value of an identifier key (`id=`, `sub=`).
        for (name, value, key) in [
            ("X-Subscriber-Info", "id=12025550181;plan=prepaid", "id"),
            ("X-Caller", "sub=12025550181", "sub"),
            (
                "X-Calling-Station-Id",
                "plan=x, user_id=12025550181",
                "user_id",
            ),
        ] {
            let l = one(name, value).unwrap_or_else(|| panic!("{name}: {value}"));
            assert_eq!(l.kind, LeakKind::PhoneNumberValue, "{name}");
            assert_eq!(l.confidence, Confidence::Medium, "{name}");
            assert_eq!(l.number, Some(num("+12025550181")), "{name}");
            assert_eq!(&value[l.span.clone()], "12025550181", "{name}");
            assert_eq!(l.key.map(|k| &value[k]), Some(key), "{name}");
        }
    }

    #[test]
    fn o2_2012() {
        let headers = [
            h("Host", "www.example.com"),
            h("User-Agent", "Mozilla/5.0"),
            h("x-up-calling-line-id", "447700900123"),
            h("Accept", "*/*"),
        ];
        let leaks = inspect(&headers);
        assert_eq!(
            leaks,
            vec![Leak {
                place: Place::Header(2),
                location: Where::Header,
                key: None,
                span: 0..12,
                kind: LeakKind::MsisdnHeader,
                confidence: Confidence::High,
                number: Some(num("+447700900123")),
                form: Some(Form::International),
                encoding: None,
            }]
        );
        let n = leaks[0].number.as_ref().unwrap();
        assert_eq!(n.e164(), "+447700900123");
        assert_eq!(n.masked(), "+44*******123");
        assert_eq!(mask_value("447700900123", Some(n)), "44*******123");
    }

    #[test]
    fn o2_redacted_value_is_low() {
        // The published value had its last digits redacted: no number, still a leak.
        let l = one("X-Up-Calling-Line-Id", "447726900XXX").unwrap();
        assert_eq!(
            (l.kind, l.confidence, l.number),
            (LeakKind::MsisdnHeader, Confidence::Low, None)
        );
    }

    #[test]
    fn every_value_form_in_a_tier_one_header() {
        for v in [
            "447700900123",
            "+447700900123",
            "00447700900123",
            "tel:+44-7700-900123",
            "+44 7700 900123",
            "+44 (0)7700 900123",
            "447700900123, 10.1.2.3",
            "10.1.2.3, 447700900123",
            "447700900123;10.1.2.3",
            "ip=10.1.2.3 447700900123",
            "+44 7700 900123, 10.1.2.3",
        ] {
            let l = one("X-MSISDN", v).unwrap_or_else(|| panic!("{v}"));
            assert_eq!(l.confidence, Confidence::High, "{v}");
            assert_eq!(l.number.unwrap().e164(), "+447700900123", "{v}");
        }
        let l = one("x-nokia-msisdn", "919835140859, 97.253.26.143").unwrap();
        assert_eq!(l.number.unwrap().e164(), "+919835140859");
    }

    #[test]
    fn tier_confidences() {
        let t1 = one("X-Hts-Clid", "595961714786").unwrap();
        assert_eq!(
            (t1.kind, t1.confidence),
            (LeakKind::MsisdnHeader, Confidence::High)
        );
        let t2 = one("X-Up-Ch-Msisdn", "5511912345678").unwrap();
        assert_eq!(
            (t2.kind, t2.confidence),
            (LeakKind::MsisdnHeader, Confidence::Medium)
        );
        assert!(t2.number.is_some());
        // National-only, base64, opaque: Low, no number.
        for v in ["07700900123", "8032618185", "dmwdovap66bFrvw=", "abc"] {
            let l = one("msisdn", v).unwrap();
            assert_eq!((l.confidence, l.number), (Confidence::Low, None), "{v}");
        }
        let l = one("x-mdn", "8032618185").unwrap();
        assert_eq!(
            (l.kind, l.confidence),
            (LeakKind::MsisdnHeader, Confidence::Low)
        );
    }

    #[test]
    fn suffix_rule_headers() {
        let l = one("X-Operator-MSISDN", "+33 6 12 34 56 78").unwrap();
        assert_eq!(
            (l.kind, l.confidence),
            (LeakKind::MsisdnHeader, Confidence::Medium)
        );
        assert_eq!(l.number.unwrap().e164(), "+33612345678");
        let l = one("nokia-callinglineid", "opaque").unwrap();
        assert_eq!(
            (l.kind, l.confidence),
            (LeakKind::MsisdnHeader, Confidence::Low)
        );
        let l = one("X-Carrier-CLID", "12025550123").unwrap();
        assert_eq!(l.confidence, Confidence::Medium);
    }

    #[test]
    fn subscriber_ids() {
        let l = one(
            "X-UIDH",
            "OTgxNTk2NDk0ADJVquRu5NS5+rSbBANlrp+13QL7CXLGsFHpMi4LsUHw",
        )
        .unwrap();
        assert_eq!(
            (l.kind, l.confidence, l.number),
            (LeakKind::SubscriberIdHeader, Confidence::Medium, None)
        );
        let l = one("x-imsi", "310410123456789").unwrap();
        assert_eq!(
            (l.kind, l.confidence),
            (LeakKind::SubscriberIdHeader, Confidence::High)
        );
        let l = one("x-up-3gpp-imeisv", "3534920123456701").unwrap();
        assert_eq!(l.confidence, Confidence::High);
        let l = one("x-nokia-imsi", "2341501234-56789").unwrap();
        assert_eq!(l.confidence, Confidence::High);
        // 13 or 17 digits: not IMSI/IMEI-shaped.
        assert_eq!(
            one("x-imsi", "3104101234567").unwrap().confidence,
            Confidence::Medium
        );
        assert_eq!(
            one("x-imsi", "31041012345678901").unwrap().confidence,
            Confidence::Medium
        );
        let l = one(
            "x-acr",
            "486E03F2A285E07F5A981152DB80BB4932022388EC34B22434928;ncc=310410;type=Dyna",
        )
        .unwrap();
        assert_eq!(
            (l.kind, l.confidence),
            (LeakKind::SubscriberIdHeader, Confidence::Medium)
        );
        // A subscriber-id header holding a phone number is still a subscriber ID here.
        let l = one("x-nokia-alias", "447700900123").unwrap();
        assert_eq!((l.kind, l.number), (LeakKind::SubscriberIdHeader, None));
    }

    #[test]
    fn x_up_subno_by_value() {
        let l = one("X-Up-Subno", "573001234567").unwrap();
        assert_eq!(
            (l.kind, l.confidence),
            (LeakKind::MsisdnHeader, Confidence::Medium)
        );
        assert_eq!(l.number.unwrap().e164(), "+573001234567");
        for v in [
            "T_ILL_CHI_1311234567000101234567",
            "swm_10448371100_vmag.mycingular.net",
            "0123456789_ab.ezweb.ne.jp",
            "29012345", // plausible (+290) but only 8 digits... is accepted: see below
        ] {
            let l = one("x-up-subno", v).unwrap();
            if v == "29012345" {
                assert_eq!(l.kind, LeakKind::MsisdnHeader, "8 digits is the minimum");
                continue;
            }
            assert_eq!(
                (l.kind, l.confidence, l.number),
                (LeakKind::SubscriberIdHeader, Confidence::Medium, None),
                "{v}"
            );
        }
        // 7 digits parse (+290 1234) but are below the 8-digit floor.
        assert!(parse_international("2901234").is_some());
        assert_eq!(
            one("x-up-subno", "2901234").unwrap().kind,
            LeakKind::SubscriberIdHeader
        );
        // IMSI-shaped subno that is no plausible number: high subscriber ID.
        let l = one("x-up-subno", "310410123456789").unwrap();
        assert_eq!(
            (l.kind, l.confidence),
            (LeakKind::SubscriberIdHeader, Confidence::High)
        );
    }

    #[test]
    fn non_leaks() {
        for (name, value) in [
            ("x-msisdn", ""),
            ("x-msisdn", "   "),
            ("x-msisdn", "-"),
            ("x-msisdn", "null"),
            ("X-MSISDN", "NULL"),
            ("x-msisdn", "Unknown"),
            ("x-msisdn", "--"),
            ("x-uidh", ""),
            ("x-uidh", "null"),
            ("x-up-subno", "unknown"),
            ("X-Operator-MSISDN", " - "),
            ("Content-Length", "447700900123"),
            ("Host", "447700900123"),
            ("User-Agent", "447700900123"),
            ("X-Forwarded-For", "447700900123, 10.1.2.3"),
            ("Accept-Language", "en-GB"),
            ("X-Request-Id", "447700900123"),
            ("x-wap-profile", "http://example.com/uaprof.xml"),
            ("Via", "1.1 gateway"),
            ("x-network-info", "UDP,security=0"),
        ] {
            assert_eq!(one(name, value), None, "{name}: {value:?}");
        }
        assert!(inspect(&[]).is_empty());
        let v = inspect(&[h("Host", "a"), h("Accept", "*/*")]);
        assert_eq!(v.capacity(), 0, "no allocation without leaks");
    }

    #[test]
    fn nothing_found_allocates_no_leak_list() {
        let known = KnownNumbers::new(vec![num("+447700900123")]).unwrap();
        let det = Detector::with(Region::parse("GB"), known);
        let headers = [
            h("Host", "example.com"),
            h("Cookie", "session=3f9cabe1d04c; visits=12; line=2"),
            h("Referer", "http://example.com/a?b=1&phone_model=GT-I9100"),
            h("X-Request-ID", "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"),
            h("Authorization", "Bearer NDQ3NzAwOTAwMTI0"),
            h("X-Balance", "+29069.49"),
        ];
        let v = det.inspect_parts("GET", "/p?id=123456789012&cb=1362398400123", &headers);
        assert!(v.is_empty(), "{v:?}");
        assert_eq!(v.capacity(), 0);
    }

    #[test]
    fn value_findings_and_their_masks() {
        let det = Detector::new();
        let headers = [
            h("Cookie", "a=1; msisdn=447700900123"),
            h("X-Note", "call +44 7700 900123 today"),
            h("Referer", "http://x.example/p?mobile=%2B447700900456"),
        ];
        let uri = "/q?to=%2B44%207700%20900123";
        let leaks = det.inspect_parts("GET", uri, &headers);
        let got: Vec<_> = leaks
            .iter()
            .map(|l| {
                (
                    l.place,
                    l.location,
                    l.kind,
                    l.confidence,
                    l.key_text(uri, &headers),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    Place::Header(0),
                    Where::Cookie,
                    LeakKind::PhoneNumberValue,
                    Confidence::High,
                    Some("msisdn")
                ),
                (
                    Place::Header(1),
                    Where::Header,
                    LeakKind::PhoneNumberValue,
                    Confidence::Medium,
                    None
                ),
                (
                    Place::Header(2),
                    Where::Query,
                    LeakKind::PhoneNumberValue,
                    Confidence::High,
                    Some("mobile")
                ),
                (
                    Place::Target,
                    Where::Query,
                    LeakKind::PhoneNumberValue,
                    Confidence::Medium,
                    Some("to")
                ),
            ]
        );
        let all: Vec<&Leak> = leaks.iter().collect();
        let masked: Vec<String> = headers
            .iter()
            .enumerate()
            .map(|(i, x)| mask_text(&x.value, Place::Header(i), &all))
            .collect();
        assert_eq!(masked[0], "a=1; msisdn=44*******123");
        assert_eq!(masked[1], "call +44 **** ***123 today");
        assert_eq!(masked[2], "http://x.example/p?mobile=%2B44*******456");
        assert_eq!(
            mask_text(uri, Place::Target, &all),
            "/q?to=%2B44%20****%20***123"
        );
        // A number found anywhere is masked everywhere it appears.
        assert_eq!(
            mask_text("x 447700900123 y", Place::Header(9), &all),
            "x 44*******123 y"
        );
    }

    #[test]
    fn catalogued_values_decoded_and_placed() {
        let l = one("X-MSISDN", "NDQ3NzAwOTAwMTIz").unwrap();
        assert_eq!(
            (l.confidence, l.encoding),
            (Confidence::High, Some(Encoding::Base64))
        );
        assert_eq!(l.number.unwrap().e164(), "+447700900123");
        let l = one("X-MSISDN", "343437373030393030313233").unwrap();
        assert_eq!(l.encoding, Some(Encoding::Hex));
        let l = one("x-up-calling-line-id", "0447700900123").unwrap();
        assert_eq!(
            (l.confidence, l.form),
            (Confidence::Medium, Some(Form::ZeroInternational))
        );
        let gb = Detector::with(Region::parse("GB"), KnownNumbers::default());
        let v = gb.inspect_parts("GET", "/", &[h("X-MSISDN", "07700 900123")]);
        assert_eq!(v[0].number.as_ref().unwrap().e164(), "+447700900123");
        assert_eq!(
            (v[0].confidence, v[0].form),
            (Confidence::Medium, Some(Form::National))
        );
        // Known numbers do not repeat what a catalogued header found.
        let known = KnownNumbers::new(vec![num("+447700900123")]).unwrap();
        let k = Detector::with(None, known);
        let v = k.inspect_parts(
            "GET",
            "/",
            &[h("X-MSISDN", "447700900123"), h("X-Other", "u447700900123")],
        );
        let kinds: Vec<_> = v.iter().map(|l| (l.place, l.kind)).collect();
        assert_eq!(
            kinds,
            [
                (Place::Header(0), LeakKind::MsisdnHeader),
                (Place::Header(1), LeakKind::KnownNumber)
            ]
        );
    }

    #[test]
    fn several_leaks_in_header_order() {
        let headers = [
            h("X-UIDH", "abcdef"),
            h("Host", "example.com"),
            h("MSISDN", "12025550123"),
            h("x-msisdn", "12025550123"),
        ];
        let leaks = inspect(&headers);
        let idx: Vec<_> = leaks.iter().map(|l| (l.header_index(), l.kind)).collect();
        assert_eq!(
            idx,
            [
                (Some(0), LeakKind::SubscriberIdHeader),
                (Some(2), LeakKind::MsisdnHeader),
                (Some(3), LeakKind::MsisdnHeader)
            ]
        );
    }

    #[test]
    fn masking_examples() {
        let n = num("447700900123");
        assert_eq!(mask_value("447700900123", Some(&n)), "44*******123");
        assert_eq!(mask_value("+447700900123", Some(&n)), "+44*******123");
        assert_eq!(mask_value("+44 7700 900123", Some(&n)), "+44 **** ***123");
        assert_eq!(
            mask_value("tel:+44-7700-900123", Some(&n)),
            "tel:+44-****-***123"
        );
        assert_eq!(mask_value("00447700900123", Some(&n)), "0044*******123");
        assert_eq!(
            mask_value("447700900123, 10.1.2.3", Some(&n)),
            "44*******123, 10.1.2.3"
        );
        assert_eq!(
            mask_value("+44 (0)7700 900123", Some(&n)),
            "+44 (0)**** ***123"
        );
        assert_eq!(
            mask_value("447700900123,447700900123", Some(&n)),
            "44*******123,44*******123"
        );
        // A national-form repeat is masked too.
        assert_eq!(
            mask_value("447700900123 07700900123", Some(&n)),
            "44*******123 0*******123"
        );
        let us = num("+1 (202) 555-0123");
        assert_eq!(
            mask_value("+1 (202) 555-0123", Some(&us)),
            "+1 (***) ***-*123"
        );
        // The number is not in the value: the whole value is masked.
        assert_eq!(mask_value("12025550123", Some(&n)), "********123");
    }

    #[test]
    fn masking_opaque_values() {
        assert_eq!(mask_value("OTgxNTk2", None), "*****Tk2");
        assert_eq!(mask_value("310410123456789", None), "************789");
        assert_eq!(mask_value("abc", None), "***");
        assert_eq!(mask_value("ab", None), "**");
        assert_eq!(mask_value("", None), "");
        assert_eq!(mask_value("ü€\u{FFFD}x", None), "*€\u{FFFD}x");
    }

    #[test]
    fn masked_output_never_contains_the_number() {
        let forms = [
            "447700900123",
            "+447700900123",
            "00447700900123",
            "tel:+44-7700-900123",
            "+44 7700 900123",
            "+44 (0)7700 900123",
            "447700900123, 10.1.2.3",
            "sip:+447700900123@ims.example;user=phone",
        ];
        for v in forms {
            let l = one("x-up-calling-line-id", v).unwrap();
            let n = l.number.unwrap();
            let masked = mask_value(v, Some(&n));
            let digits: String = masked.chars().filter(char::is_ascii_digit).collect();
            assert!(!digits.contains("7700900"), "{v} -> {masked}");
            assert!(!masked.contains("7700"), "{v} -> {masked}");
            assert_eq!(masked.chars().count(), v.chars().count(), "{v}");
            assert!(masked.contains("123"), "{v} -> {masked}");
        }
    }

    /// Odd inputs: nothing may panic.
    #[test]
    fn fuzz_ish_no_panics() {
        let mut inputs: Vec<String> = [
            "",
            " ",
            "+",
            "++",
            "00",
            "0",
            "(",
            ")",
            "(0)",
            "(0",
            "+(0)",
            "tel:",
            "TEL:;",
            "sip:@",
            "sips:",
            ";",
            ",",
            ", ;",
            "\u{FFFD}",
            "\u{FFFD}\u{FFFD}447700900123\u{FFFD}",
            "４４７７００９００１２３",
            "日本語の値",
            "ü",
            "e\u{301}",
            "\0",
            "\u{7f}",
            "447700900123\0",
            "-1",
            "+-1",
            "1.1.1.1",
            "255.255.255.255",
            "256.1.1.1",
            "1..1",
            "...",
            "tel:+",
            "tel:+44-",
            "+44 (0)",
            "+44 (0",
            "44(0)",
            "(0)(0)(0)",
            "00(0)44",
            "+44 7700 900123 ;;;,,,",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        inputs.push("9".repeat(10_000));
        inputs.push("1".repeat(16));
        inputs.push(format!("+{}", "4".repeat(100)));
        inputs.push("44".repeat(500) + "\u{FFFD}");
        inputs.push("447700900123, ".repeat(200));
        inputs.push("é".repeat(70));
        inputs.push("x".repeat(70));
        // A deterministic pseudo-random mix of digits, separators and odd chars.
        let alphabet: Vec<char> = "0123456789+-.() ,;:telsip@\u{FFFD}é\t0044"
            .chars()
            .collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..3000 {
            let mut s = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            inputs.push(s);
        }
        let det = Detector::new();
        let uk = num("447700900123");
        for v in &inputs {
            let parsed = parse_international(v);
            if let Some(n) = &parsed {
                assert!(n.digits().len() <= 15);
                assert!(n.masked().starts_with('+'));
                let m = mask_value(v, Some(n));
                assert_eq!(m.chars().count(), v.chars().count());
                assert!(!m.contains(n.national()), "{v:?} -> {m:?}");
            }
            assert_eq!(mask_value(v, None).chars().count(), v.chars().count());
            let _ = mask_value(v, Some(&uk));
            for name in [
                "x-up-calling-line-id",
                "x-up-subno",
                "x-uidh",
                "X-Foo-MSISDN",
                v.as_str(),
            ] {
                let headers = [h(name, v), h(v, v)];
                let leaks = det.inspect_parts("GET", v, &headers);
                let all: Vec<&Leak> = leaks.iter().collect();
                for l in &leaks {
                    if let Some(i) = l.header_index() {
                        assert!(i < 2);
                    }
                    let text = l.place_text(v, &headers);
                    assert!(text.get(l.span.clone()).is_some(), "{v:?}: {l:?}");
                    let m = mask_text(text, l.place, &all);
                    assert_eq!(m.chars().count(), text.chars().count(), "{v:?}");
                    if let Some(n) = &l.number {
                        assert!(!m.contains(n.national()), "{v:?} -> {m:?}");
                    }
                }
            }
        }
    }
}
