//! Value scanning: phone numbers in header values, cookie pairs, query
//! strings, path parameters and URL-valued headers (Referer).
//!
//! A digit run alone is never enough here. A candidate is taken only when
//! it is written as an international number with a marker (`+`, `%2B`,
//! `00`, `tel:`/`sip:`) at the start of a token, or when it is the whole
//! value of a phone-like key ([`is_phone_key`]: `msisdn=`, `phone=`,
//! `mob=`, a cookie named like a catalogued MSISDN header, ...). Values are
//! percent-decoded (into a stack buffer) before they are parsed, and nothing
//! is allocated unless a candidate is found.
use std::ops::Range;

use super::number::{self, Form, Parsed, Region, parse};
use super::{catalogue, names};

/// Where in a request a finding was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Where {
    /// A header value (as a whole, a token of it, or a `key=value` pair in it).
    Header,
    /// A pair of the `Cookie` header.
    Cookie,
    /// A query-string parameter, of the request target or of a URL-valued
    /// header such as `Referer`.
    Query,
    /// The path of the request target (or of a URL-valued header): a path
    /// parameter (`;msisdn=…`), a segment, a segment after a phone-like one.
    Uri,
    /// A field of the request body (form, JSON, multipart, XML, text).
    Body,
}

impl Where {
    /// The location as written in output: `header`, `cookie`, `query`,
    /// `uri`, `body`.
    pub fn as_str(self) -> &'static str {
        match self {
            Where::Header => "header",
            Where::Cookie => "cookie",
            Where::Query => "query",
            Where::Uri => "uri",
            Where::Body => "body",
        }
    }
}

/// A phone number candidate in a container text (a header value or the
/// request target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    /// Byte range of the number as written (markers included).
    pub span: Range<usize>,
    /// Byte range of the key (`msisdn` in `msisdn=…`), if it had one.
    pub key: Option<Range<usize>>,
    /// The key is phone-like: the value was read permissively.
    pub keyed: bool,
    /// The number read.
    pub parsed: Parsed,
    /// The written form was percent-encoded (`%2B44…`, `%20`).
    pub url_encoded: bool,
    /// Where it was.
    pub location: Where,
}

/// Words that make a key phone-like (compared with each word of the key:
/// split at non-alphanumerics and at lower-to-upper case changes).
const PHONE_WORDS: &[&str] = &[
    "ani",
    "callerid",
    "callinglineid",
    "cell",
    "cellphone",
    "cli",
    "clid",
    "line",
    "lineid",
    "mdn",
    "mob",
    "mobile",
    "mobileno",
    "mobilenumber",
    "msisdn",
    "msisdns",
    "phone",
    "phoneno",
    "phonenumber",
    "phones",
    "tel",
    "telephone",
    "telno",
];

/// Endings of the letters-only, lower-cased key that make it phone-like
/// even without word breaks (`userphone`, `custmsisdn`).
const PHONE_SUFFIXES: &[&str] = &[
    "callerid",
    "callinglineid",
    "cellphone",
    "mobileno",
    "mobilenumber",
    "msisdn",
    "phone",
    "phoneno",
    "phonenumber",
    "telephone",
    "telno",
];

/// Stems of every entry of [`PHONE_WORDS`] and [`PHONE_SUFFIXES`].
const PHONE_STEMS: &[&str] = &[
    "ani", "callerid", "cell", "cli", "line", "mdn", "mob", "msisdn", "phone", "tel",
];

/// The first two letters of every stem of [`PHONE_STEMS`] (checked by a test).
const STEM_PAIRS: [[u8; 2]; 10] = [
    *b"an", *b"ca", *b"ce", *b"cl", *b"li", *b"md", *b"mo", *b"ms", *b"ph", *b"te",
];

/// Longest key looked at (longer keys are never phone-like).
const MAX_KEY: usize = 64;

/// True when a header name, cookie name or parameter key says its value is
/// a phone number: a catalogued MSISDN header name, a name matching the
/// suffix rule, a key with a phone word (`phone`, `tel`, `mobile`, `mob`,
/// `cli`, `line`, `mdn`, `msisdn`, ...) or ending in a longer one
/// (`userphone`). `hotel`, `deadline`, `online` are not phone-like.
/// Allocation-free; one pass over the key ([`names::classify`]).
pub fn is_phone_key(key: &str) -> bool {
    names::classify(names::trim_key(key)).phone
}

/// [`is_phone_key`] by the plain rules, one after the other: the reference
/// the one-pass classifier is tested against.
#[cfg(test)]
pub(crate) fn is_phone_key_model(key: &str) -> bool {
    phone_key_model(names::trim_key(key))
}

/// The body of [`is_phone_key_model`], on a key already trimmed.
pub(crate) fn phone_key_model(key: &str) -> bool {
    if key.is_empty() || key.len() > MAX_KEY {
        return false;
    }
    if catalogue::lookup(key)
        .is_some_and(|e| e.kind == super::LeakKind::MsisdnHeader && !e.by_value)
        || catalogue::suffix_rule(key)
    {
        return true;
    }
    let mut letters = [0u8; MAX_KEY];
    let mut n = 0usize;
    for b in key.bytes().filter(u8::is_ascii_alphabetic) {
        if let Some(slot) = letters.get_mut(n) {
            *slot = b.to_ascii_lowercase();
            n += 1;
        }
    }
    let letters = letters.get(..n).unwrap_or_default();
    // Every phone word and suffix contains one of these stems: most keys
    // (`id`, `session`, `utm_source`) stop here.
    if !PHONE_STEMS
        .iter()
        .any(|stem| letters.windows(stem.len()).any(|w| w == stem.as_bytes()))
    {
        return false;
    }
    phone_words_hold(key, letters)
}

/// The phone-word rules of [`is_phone_key`] on a key that is neither
/// catalogued nor caught by the suffix rule, given its lower-cased letters:
/// it ends in a long phone word or has a phone word as one of its words.
pub(crate) fn phone_words_hold(key: &str, letters: &[u8]) -> bool {
    // Every phone word and suffix holds a stem, and every stem starts with
    // one of these letter pairs: most keys (`_fbp`, `uid`, `session`) have
    // none and stop here.
    if !letters.windows(2).any(|w| {
        STEM_PAIRS.contains(&[
            w.first().copied().unwrap_or(0),
            w.last().copied().unwrap_or(0),
        ])
    }) {
        return false;
    }
    if PHONE_SUFFIXES
        .iter()
        .any(|s| letters.ends_with(s.as_bytes()))
    {
        return true;
    }
    words(key).any(|w| {
        PHONE_WORDS
            .iter()
            .any(|p| p.len() == w.len() && p.as_bytes().eq_ignore_ascii_case(w.as_bytes()))
    })
}

/// Words that make a header name say its value is subscriber data, when
/// they occur in its lower-cased letters: `X-Subscriber-Info`, `X-Caller`,
/// `X-Calling-Station-Id`, `X-Contact`.
const SUBSCRIBER_WORDS: &[&str] = &["caller", "calling", "contact", "subscriber"];

/// True when a header name says its value is subscriber data: its letters,
/// lower-cased, contain `subscriber`, `caller`, `calling` or `contact`.
/// Under such a name a bare number of international length counts
/// ([`Scanner::bare_numbers`]).
pub(crate) fn is_subscriber_name_model(name: &str) -> bool {
    // The last letters seen, newest last: enough for the longest word.
    let mut recent = [0u8; 10];
    for b in name.bytes().filter(u8::is_ascii_alphabetic) {
        recent.rotate_left(1);
        if let Some(last) = recent.last_mut() {
            *last = b.to_ascii_lowercase();
        }
        if SUBSCRIBER_WORDS
            .iter()
            .any(|w| recent.ends_with(w.as_bytes()))
        {
            return true;
        }
    }
    false
}

/// [`is_subscriber_name_model`] given the name's lower-cased letters.
pub(crate) fn subscriber_words_hold(_name: &str, letters: &[u8]) -> bool {
    // Every word starts with `ca`, `co` or `su`: most names have none.
    if !letters
        .windows(2)
        .any(|w| matches!(w, [b'c', b'a' | b'o'] | [b's', b'u']))
    {
        return false;
    }
    SUBSCRIBER_WORDS
        .iter()
        .any(|w| letters.windows(w.len()).any(|x| x == w.as_bytes()))
}

/// Words that make a key name an identifier of a person or account
/// (`id=`, `sub=`, `user_id=`, `subId=`, `acct=`): under a name that says
/// subscriber data, the value of such a key is read like a bare token
/// ([`Scanner::bare_numbers`]). Keys that say the digits are something else
/// (`ts=`, `seq=`, `exp=`, `ip=`) are not among them.
const IDENTIFIER_WORDS: &[&str] = &[
    "acct",
    "account",
    "caller",
    "calling",
    "cust",
    "customer",
    "id",
    "ident",
    "identity",
    "msid",
    "nr",
    "num",
    "number",
    "no",
    "sub",
    "subid",
    "subs",
    "subscriber",
    "uid",
    "user",
    "userid",
];

/// True when `key` names an identifier: one of its words (as [`words`]
/// splits it) is an [`IDENTIFIER_WORDS`] entry, any case.
pub(crate) fn is_identifier_key(key: &str) -> bool {
    key.len() <= MAX_KEY
        && words(key).any(|w| {
            IDENTIFIER_WORDS
                .iter()
                .any(|i| i.len() == w.len() && i.as_bytes().eq_ignore_ascii_case(w.as_bytes()))
        })
}

/// The words of a key: split at non-alphanumerics and before an upper-case
/// letter that follows a lower-case one (`userPhone` → `user`, `Phone`).
fn words(key: &str) -> impl Iterator<Item = &str> {
    let bytes = key.as_bytes();
    let mut start = 0usize;
    let mut i = 0usize;
    std::iter::from_fn(move || {
        while i <= bytes.len() {
            let here = bytes.get(i).copied();
            let prev = i.checked_sub(1).and_then(|p| bytes.get(p)).copied();
            let boundary = match here {
                None => true,
                Some(b) if !b.is_ascii_alphanumeric() => true,
                Some(b) => b.is_ascii_uppercase() && prev.is_some_and(|p| p.is_ascii_lowercase()),
            };
            if boundary {
                let word = key.get(start..i).filter(|w| !w.is_empty());
                start = if here.is_some_and(|b| b.is_ascii_alphanumeric()) {
                    i
                } else {
                    i + 1
                };
                i += 1;
                if word.is_some() {
                    return word;
                }
            } else {
                i += 1;
            }
        }
        None
    })
}

/// Longest value percent-decoded for parsing (phone numbers are short).
const MAX_DECODED: usize = 96;

/// Fewest ASCII digits the text of any value-scan candidate holds: the
/// shortest national significant number of any country
/// ([`number::MIN_NSN`]); percent-escapes only add digits to the text.
/// A text with fewer is skipped at once.
pub(crate) const MIN_DIGITS: usize = number::MIN_NSN;

/// Fewest digits of a marked number taken without a key (see
/// [`Scanner::markers`]).
const MIN_MARKED_DIGITS: usize = 8;

/// The ASCII digits in `range` of `text` (clamped to the text).
fn digits_in(text: &str, range: &Range<usize>) -> usize {
    let bytes = text.as_bytes();
    let end = range.end.min(bytes.len());
    count_digits(bytes.get(range.start.min(end)..end).unwrap_or_default())
}

/// The ASCII digits in `bytes` (counted in byte lanes, 255 bytes at a time,
/// which the compiler turns into vector code).
fn count_digits(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|c| {
            usize::from(c.iter().fold(0u8, |n, &b| {
                n.wrapping_add(u8::from(b.wrapping_sub(b'0') < 10))
            }))
        })
        .sum()
}

/// True when `text` cannot hold a marked number (no `+`, `%`, `00` or `:`)
/// nor a `key=value` pair (no `=`): a plain header value scanned by
/// [`Scanner::pairs`] then yields nothing. Found with `memchr`, so most
/// values (user agents, `Accept-Language`) are passed over in a few
/// instructions per 32 bytes.
pub(crate) fn cannot_hold_marked_or_keyed(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr3(b'=', b'+', b'%', b).is_none()
        && memchr::memchr(b':', b).is_none()
        && memchr::memmem::find(b, b"00").is_none()
}

/// The first separator of `seps` in `hay`.
fn find_sep(hay: &[u8], seps: &[u8]) -> Option<usize> {
    match *seps {
        [a] => memchr::memchr(a, hay),
        [a, b] => memchr::memchr2(a, b, hay),
        [a, b, c] => memchr::memchr3(a, b, c, hay),
        _ => hay.iter().position(|x| seps.contains(x)),
    }
}

/// True when `text` holds too few digits for the value scan to find
/// anything in it, whatever the key or name.
pub(crate) fn too_few_digits(text: &str) -> bool {
    digits_in(text, &(0..text.len())) < MIN_DIGITS
}

/// True for a byte a marker can start with: `+`, `%` (`%2B`), `0` (`00`),
/// `t`/`s` (`tel:`, `sip:`, `sips:`).
fn is_marker_start(b: u8) -> bool {
    matches!(b, b'+' | b'%' | b'0' | b't' | b'T' | b's' | b'S')
}

/// Percent-decodes `s` into `buf`; `None` when it does not fit or the
/// result is not UTF-8. A `+` stays a `+` (in query strings it may mean a
/// space, but before digits it means a plus far more often).
fn percent_decode<'b>(s: &str, buf: &'b mut [u8; MAX_DECODED]) -> Option<(&'b str, bool)> {
    let bytes = s.as_bytes();
    let mut n = 0usize;
    let mut i = 0usize;
    let mut decoded = false;
    while let Some(&b) = bytes.get(i) {
        let hex = |k: usize| bytes.get(k).and_then(|&c| char::from(c).to_digit(16));
        let out = match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                i += 3;
                decoded = true;
                u8::try_from(h * 16 + l).ok()?
            }
            _ => {
                i += 1;
                b
            }
        };
        *buf.get_mut(n)? = out;
        n += 1;
    }
    let text = std::str::from_utf8(buf.get(..n)?).ok()?;
    Some((text, decoded))
}

/// A scan over one container text.
pub(crate) struct Scanner<'a, F: FnMut(Candidate)> {
    text: &'a str,
    region: Option<Region>,
    out: F,
    /// Skip texts with too few digits (always, but in the tests that show
    /// the skipping changes nothing).
    prefilter: bool,
}

/// Trims ASCII whitespace (and surrounding double quotes) off `range` of `text`.
fn trim_range(text: &str, range: Range<usize>) -> Range<usize> {
    let bytes = text.as_bytes();
    let (mut a, mut b) = (range.start, range.end);
    while a < b
        && bytes
            .get(a)
            .is_some_and(|c| c.is_ascii_whitespace() || *c == b'"')
    {
        a += 1;
    }
    while b > a
        && bytes
            .get(b - 1)
            .is_some_and(|c| c.is_ascii_whitespace() || *c == b'"')
    {
        b -= 1;
    }
    a..b
}

/// Byte ranges of the parts of `range` separated by any of `seps`.
fn split_ranges<'s>(
    text: &'s str,
    range: Range<usize>,
    seps: &'s [u8],
) -> impl Iterator<Item = Range<usize>> + 's {
    let bytes = text.as_bytes();
    let end = range.end;
    let mut at = range.start;
    let mut done = range.start > range.end;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let start = at;
        let mut i = at;
        while i < end && !bytes.get(i).is_some_and(|b| seps.contains(b)) {
            i += 1;
        }
        if i >= end {
            done = true;
        }
        at = i + 1;
        Some(start..i)
    })
}

/// True when the byte at `i` continues a dash- or dot-grouped digit run
/// (`4123-0065-6065-9410`, a card or account number): a `00` there is a
/// group of it, not the start of an international number.
fn in_digit_group(bytes: &[u8], i: usize) -> bool {
    let before = |k: usize| i.checked_sub(k).and_then(|j| bytes.get(j));
    matches!(before(1), Some(b'-' | b'.')) && before(2).is_some_and(u8::is_ascii_digit)
}

fn is_alnum_at(bytes: &[u8], i: usize) -> bool {
    bytes.get(i).is_some_and(u8::is_ascii_alphanumeric)
}

impl<'a, F: FnMut(Candidate)> Scanner<'a, F> {
    /// A scanner over `text` (a header value or the request target), handing
    /// candidates to `out`.
    pub fn new(text: &'a str, region: Option<Region>, out: F) -> Self {
        Scanner {
            text,
            region,
            out,
            prefilter: true,
        }
    }

    /// The same scanner without the digit prefilter: the reference the
    /// prefilter is tested against.
    #[cfg(test)]
    pub fn unfiltered(text: &'a str, region: Option<Region>, out: F) -> Self {
        Scanner {
            text,
            region,
            out,
            prefilter: false,
        }
    }

    /// True when `range` holds fewer than `min` digits and the prefilter is on.
    fn few(&self, range: &Range<usize>, min: usize) -> bool {
        self.prefilter && digits_in(self.text, range) < min
    }

    fn slice(&self, r: &Range<usize>) -> &'a str {
        self.text.get(r.clone()).unwrap_or_default()
    }

    /// A value that belongs to a phone-like key (or header name): read
    /// permissively (bare digits, national forms). Returns true if found.
    pub fn keyed_value(
        &mut self,
        range: Range<usize>,
        key: Option<Range<usize>>,
        location: Where,
    ) -> bool {
        self.keyed(range, key, location, true)
    }

    /// [`Self::keyed_value`], taking national-only numbers (no region to
    /// place them) only when `national_only`.
    fn keyed(
        &mut self,
        range: Range<usize>,
        key: Option<Range<usize>>,
        location: Where,
        national_only: bool,
    ) -> bool {
        let range = trim_range(self.text, range);
        if range.is_empty() {
            return false;
        }
        let mut buf = [0u8; MAX_DECODED];
        let Some((value, url_encoded)) = percent_decode(self.slice(&range), &mut buf) else {
            return false;
        };
        let value = value.trim().trim_matches('"');
        let placed_or_trunk =
            |p: &Parsed| p.number.is_some() || (national_only && trunk_shaped(value));
        if let Some(parsed) = parse(value, self.region).filter(placed_or_trunk) {
            (self.out)(Candidate {
                span: range,
                key,
                keyed: true,
                parsed,
                url_encoded,
                location,
            });
            return true;
        }
        false
    }

    /// A header value under a phone-like name: the whole value, else each
    /// `,`/`;`-separated part, else each whitespace-separated token.
    pub fn keyed_header(&mut self, range: Range<usize>) {
        if self.few(&range, MIN_DIGITS) {
            return;
        }
        if self.keyed_value(range.clone(), None, Where::Header) {
            return;
        }
        let text = self.text;
        for part in split_ranges(text, range, b",;") {
            if self.keyed_value(part.clone(), None, Where::Header) {
                return;
            }
            for token in split_ranges(text, part, b" \t") {
                if self.keyed_value(token, None, Where::Header) {
                    return;
                }
            }
        }
    }

    /// `key=value` pairs separated by any of `seps`: phone-like keys are read
    /// permissively, other values only for marked numbers; parts without
    /// `=` are scanned for marked numbers.
    pub fn pairs(&mut self, range: Range<usize>, seps: &[u8], location: Where) {
        let text = self.text;
        #[cfg(test)]
        if !self.prefilter {
            return self.pairs_model(range, seps, location);
        }
        // A key's value needs MIN_DIGITS digits, a marked number more: parts
        // and values with fewer hold nothing and are skipped at once.
        if self.few(&range, MIN_DIGITS) {
            return;
        }
        let bytes = text.as_bytes();
        let end = range.end.min(bytes.len());
        let mut start = range.start;
        if start > end {
            return;
        }
        loop {
            let stop = bytes
                .get(start..end)
                .and_then(|hay| find_sep(hay, seps))
                .map_or(end, |k| start + k);
            let raw = bytes.get(start..stop).unwrap_or_default();
            let digits = count_digits(raw);
            if !(self.prefilter && digits < MIN_DIGITS) {
                let part = trim_range(text, start..stop);
                // The first `=` is inside the trimmed part (trimming takes
                // only spaces and quotes).
                match memchr::memchr(b'=', raw).map(|k| start + k) {
                    Some(eq) => {
                        let key = trim_range(text, part.start..eq);
                        let value = eq + 1..part.end;
                        // The digits after the `=`: the part's less the key's.
                        let before = bytes.get(start..eq).unwrap_or_default();
                        let after = digits - count_digits(before);
                        if !(self.prefilter && after < MIN_DIGITS) {
                            let mut kbuf = [0u8; MAX_DECODED];
                            let phone_key = percent_decode(self.slice(&key), &mut kbuf)
                                .is_some_and(|(k, _)| is_phone_key(k));
                            if !(phone_key
                                && self.keyed_value(value.clone(), Some(key.clone()), location))
                            {
                                self.markers_counted(value, Some(key), location, after);
                            }
                        }
                    }
                    None => self.markers_counted(part, None, location, digits),
                }
            }
            if stop >= end {
                return;
            }
            start = stop + 1;
        }
    }

    /// Marked international numbers anywhere in `range`: `+` or `%2B`
    /// before a digit, `00` or `tel:`/`sip:` at the start of a token, each
    /// not glued to a letter or digit before it, and the number not glued to
    /// one after it.
    pub fn markers(&mut self, range: Range<usize>, key: Option<Range<usize>>, location: Where) {
        let digits = digits_in(self.text, &range);
        self.markers_counted(range, key, location, digits);
    }

    /// [`Self::markers`] given the count of digits in `range`.
    fn markers_counted(
        &mut self,
        range: Range<usize>,
        key: Option<Range<usize>>,
        location: Where,
        digits: usize,
    ) {
        let bytes = self.text.as_bytes();
        #[cfg(test)]
        if !self.prefilter {
            return self.markers_model(range, key, location);
        }
        if digits < MIN_MARKED_DIGITS {
            return;
        }
        let len = bytes.len();
        let end = range.end;
        let mut i = range.start;
        // The next `:` at or after `colon_from` (for `tel:`, `sip:`,
        // `sips:`, whose `:` is 3 or 4 bytes after the marker's start; it may
        // lie past the range), kept so that no byte is searched twice.
        let mut colon: Option<usize> = None;
        let mut colon_from = 0usize;
        // The next `+`, `%` or `0` at or after `symbol_from`, kept likewise.
        let mut symbol: Option<usize> = None;
        let mut symbol_from = 0usize;
        let symbols_end = end.min(len);
        while i < end {
            // Jump to the next byte that can start a marker: `+`, `%`, `0`,
            // or one 3 or 4 bytes before a `:`.
            if symbol.is_none_or(|p| p < i) && symbol_from < symbols_end {
                symbol_from = symbol_from.max(i);
                symbol = bytes
                    .get(symbol_from..symbols_end)
                    .and_then(|hay| memchr::memchr3(b'+', b'%', b'0', hay))
                    .map(|k| symbol_from + k);
                symbol_from = symbol.map_or(symbols_end, |p| p + 1);
            }
            if colon.is_none_or(|c| c < i + 3) && colon_from < len {
                colon_from = colon_from.max(i + 3);
                colon = bytes
                    .get(colon_from..(end + 4).min(len))
                    .and_then(|hay| memchr::memchr(b':', hay))
                    .map(|k| colon_from + k);
                colon_from = colon.map_or(len, |c| c + 1);
            }
            let symbol_next = symbol.filter(|&p| p >= i);
            let scheme = colon
                .filter(|&c| c >= i + 3)
                .map(|c| c.saturating_sub(4).max(i));
            let next = match (symbol_next, scheme) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => break,
            };
            if next >= end {
                break;
            }
            i = next;
            let Some(&b) = bytes.get(i) else { break };
            if !is_marker_start(b) {
                i += 1;
                continue;
            }
            let at_token_start = i == 0 || !is_alnum_at(bytes, i - 1);
            let next_digit = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_digit);
            let marker = match b {
                b'+' if next_digit(i + 1) => Some(i + 1),
                b'%' if bytes.get(i + 1) == Some(&b'2')
                    && matches!(bytes.get(i + 2), Some(b'B' | b'b'))
                    && next_digit(i + 3) =>
                {
                    Some(i + 3)
                }
                b'0' if bytes.get(i + 1) == Some(&b'0')
                    && next_digit(i + 2)
                    && !in_digit_group(bytes, i) =>
                {
                    Some(i + 2)
                }
                b't' | b'T' | b's' | b'S'
                    if bytes.get(i + 3) == Some(&b':') || bytes.get(i + 4) == Some(&b':') =>
                {
                    let rest = self.text.get(i..).unwrap_or_default();
                    ["tel:", "sip:", "sips:"]
                        .iter()
                        .find(|s| {
                            rest.get(..s.len())
                                .is_some_and(|p| p.eq_ignore_ascii_case(s))
                        })
                        .map(|s| i + s.len())
                }
                _ => None,
            };
            let Some(body) = marker.filter(|_| at_token_start) else {
                i += 1;
                continue;
            };
            match self.marked_at(i, body, range.end, key.clone(), location) {
                Some(end) => i = end,
                None => i = body,
            }
        }
    }

    /// Bare international numbers under a header name that says its value is
    /// subscriber data ([`is_subscriber_name_model`]): a token of `range`
    /// (split at `,` `;` `&` and whitespace, quotes trimmed), or the value
    /// of a `key=value` token whose key names an identifier
    /// ([`is_identifier_key`]: `id=`, `sub=`), made of 8–15 digits and
    /// nothing else that reads as an international number (country code,
    /// length and leading digits judged as everywhere). `00`- and
    /// `0`-prefixed digits are not taken.
    pub fn bare_numbers(&mut self, range: Range<usize>) {
        let text = self.text;
        if self.few(&range, MIN_MARKED_DIGITS) {
            return;
        }
        for part in split_ranges(text, range, b",;&") {
            for token in split_ranges(text, part, b" \t") {
                let mut token = trim_range(text, token);
                let mut key = None;
                if let Some(eq) = self.slice(&token).find('=').map(|k| token.start + k) {
                    let k = trim_range(text, token.start..eq);
                    if !is_identifier_key(self.slice(&k)) {
                        continue;
                    }
                    key = Some(k);
                    token = trim_range(text, eq + 1..token.end);
                }
                let digits = self.slice(&token);
                if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    continue;
                }
                let Some(parsed) = parse(digits, None)
                    .filter(|p| p.form == Form::International && p.number.is_some())
                else {
                    continue;
                };
                (self.out)(Candidate {
                    span: token,
                    key,
                    keyed: false,
                    parsed,
                    url_encoded: false,
                    location: Where::Header,
                });
            }
        }
    }

    /// [`Self::pairs`] as it was written before the one-pass version (split,
    /// trim, look for `=`, part by part): the reference of the tests.
    #[cfg(test)]
    fn pairs_model(&mut self, range: Range<usize>, seps: &[u8], location: Where) {
        let text = self.text;
        for part in split_ranges(text, range, seps) {
            let part = trim_range(text, part);
            let eq = self.slice(&part).find('=').map(|i| part.start + i);
            match eq {
                Some(eq) => {
                    let key = trim_range(text, part.start..eq);
                    let value = eq + 1..part.end;
                    let mut kbuf = [0u8; MAX_DECODED];
                    let phone_key = percent_decode(self.slice(&key), &mut kbuf)
                        .is_some_and(|(k, _)| is_phone_key_model(k));
                    if !(phone_key && self.keyed_value(value.clone(), Some(key.clone()), location))
                    {
                        self.markers_model(value, Some(key), location);
                    }
                }
                None => self.markers_model(part, None, location),
            }
        }
    }

    /// [`Self::markers`] as it was written before it jumped from marker to
    /// marker (every byte looked at): the reference of the tests.
    #[cfg(test)]
    fn markers_model(&mut self, range: Range<usize>, key: Option<Range<usize>>, location: Where) {
        let bytes = self.text.as_bytes();
        let mut i = range.start;
        while i < range.end {
            let Some(&b) = bytes.get(i) else { break };
            let at_token_start = i == 0 || !is_alnum_at(bytes, i - 1);
            let next_digit = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_digit);
            let marker = match b {
                b'+' if next_digit(i + 1) => Some(i + 1),
                b'%' if bytes.get(i + 1) == Some(&b'2')
                    && matches!(bytes.get(i + 2), Some(b'B' | b'b'))
                    && next_digit(i + 3) =>
                {
                    Some(i + 3)
                }
                b'0' if bytes.get(i + 1) == Some(&b'0')
                    && next_digit(i + 2)
                    && !in_digit_group(bytes, i) =>
                {
                    Some(i + 2)
                }
                b't' | b'T' | b's' | b'S' => {
                    let rest = self.text.get(i..).unwrap_or_default();
                    ["tel:", "sip:", "sips:"]
                        .iter()
                        .find(|s| {
                            rest.get(..s.len())
                                .is_some_and(|p| p.eq_ignore_ascii_case(s))
                        })
                        .map(|s| i + s.len())
                }
                _ => None,
            };
            let Some(body) = marker.filter(|_| at_token_start) else {
                i += 1;
                continue;
            };
            match self.marked_at(i, body, range.end, key.clone(), location) {
                Some(end) => i = end,
                None => i = body,
            }
        }
    }

    /// Tries the number whose marker starts at `start` and whose digits start
    /// at `body`; returns the end of the candidate when one was taken.
    fn marked_at(
        &mut self,
        start: usize,
        body: usize,
        limit: usize,
        key: Option<Range<usize>>,
        location: Where,
    ) -> Option<usize> {
        let bytes = self.text.as_bytes();
        // Extend over digits, separators and percent-escapes of separators.
        let mut end = body;
        let tel = bytes.get(start).is_some_and(|b| b.is_ascii_alphabetic());
        let mut stops: [usize; 8] = [0; 8];
        let mut nstops = 0usize;
        while end < limit {
            let Some(&c) = bytes.get(end) else { break };
            let step = match c {
                b'0'..=b'9' => 1,
                b'-' | b'.' | b'(' | b')' => 1,
                b' ' => {
                    if let Some(s) = stops.get_mut(nstops) {
                        *s = end;
                        nstops += 1;
                    }
                    1
                }
                b'+' if tel && end == body => 1,
                b'%' if bytes.get(end + 1) == Some(&b'2')
                    && matches!(bytes.get(end + 2), Some(b'0' | b'D' | b'd' | b'B' | b'b')) =>
                {
                    3
                }
                _ => break,
            };
            end += step;
        }
        // The number must not run into a letter or digit.
        let glued = |e: usize| e < limit && is_alnum_at(bytes, e);
        let mut candidates = std::iter::once(end).chain(stops.into_iter().take(nstops).rev());
        candidates.find_map(|e| {
            let span = start..trim_range(self.text, start..e).end;
            if span.is_empty() || (e == end && glued(e)) {
                return None;
            }
            let mut buf = [0u8; MAX_DECODED];
            let (value, url_encoded) = percent_decode(self.slice(&span), &mut buf)?;
            let parsed = parse(value, None).filter(|p| p.number.is_some() && p.form.is_marked())?;
            // `00` + digits alone is also how counters are zero-padded
            // (`0049123456789`): without a key it needs grouping separators.
            if parsed.form == Form::DoubleZero && !value.trim().contains([' ', '-', '.', '(']) {
                return None;
            }
            // A signed decimal (`+29069.49`, a coordinate `+51.4779`) is no
            // number; nor is anything shorter than 8 digits without a key.
            let dots = value.matches('.').count();
            if (dots == 1 && !value.contains([' ', '-', '(']))
                || parsed.number.as_ref().is_some_and(|n| n.digits().len() < 8)
            {
                return None;
            }
            let span_end = span.end;
            (self.out)(Candidate {
                span,
                key: key.clone(),
                keyed: false,
                parsed,
                url_encoded,
                location,
            });
            Some(span_end)
        })
    }

    /// A URL or request target: the query string's pairs (location
    /// `query`), then the path: `;key=value` path parameters, segments with
    /// marked numbers, and a segment right after a phone-like segment
    /// (`/msisdn/447700900123`), all with location `uri`.
    pub fn url(&mut self, range: Range<usize>) {
        let text = self.text;
        if self.few(&range, MIN_DIGITS) {
            return;
        }
        let s = self.slice(&range);
        // Skip scheme://authority of an absolute URL.
        let mut path_start = range.start;
        let lower_starts = |p: &str| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
        if let Some(scheme) = ["http://", "https://"]
            .into_iter()
            .find(|p| lower_starts(p))
        {
            let after = range.start + scheme.len();
            path_start = text
                .get(after..range.end)
                .and_then(|r| r.find(['/', '?', '#']))
                .map_or(range.end, |i| after + i);
        }
        let rest = text.get(path_start..range.end).unwrap_or_default();
        let end = rest.find('#').map_or(range.end, |i| path_start + i);
        let (path, query) = match text.get(path_start..end).and_then(|r| r.find('?')) {
            Some(q) => (path_start..path_start + q, Some(path_start + q + 1..end)),
            None => (path_start..end, None),
        };
        if let Some(q) = query {
            self.pairs(q, b"&;", Where::Query);
        }
        let mut previous: Option<Range<usize>> = None;
        for segment in split_ranges(text, path, b"/") {
            let seg = self.slice(&segment);
            let (name, params) = match seg.find(';') {
                Some(p) => (
                    segment.start..segment.start + p,
                    Some(segment.start + p + 1..segment.end),
                ),
                None => (segment.clone(), None),
            };
            if let Some(params) = params {
                self.pairs(params, b";", Where::Uri);
            }
            // A segment right after a phone-like one is its value; whether the
            // previous one is phone-like matters only when this one has
            // enough digits to be a number.
            let digits = digits_in(text, &name);
            let found = match previous.take() {
                Some(key) if !self.prefilter || digits >= MIN_DIGITS => {
                    let mut kbuf = [0u8; MAX_DECODED];
                    let (phone, generic) = percent_decode(self.slice(&key), &mut kbuf).map_or(
                        (false, false),
                        |(k, _)| {
                            let phone = !k.is_empty() && is_phone_key(k);
                            (phone, phone && is_generic_path_word(k))
                        },
                    );
                    // A path segment is often an id: only a placed number
                    // counts, and after a section-like word (`/mobile/`) only
                    // one of at least 10 digits.
                    let long_enough = !generic || digits >= 10;
                    phone && long_enough && self.keyed(name.clone(), Some(key), Where::Uri, false)
                }
                _ => false,
            };
            if !found {
                self.markers(name.clone(), None, Where::Uri);
            }
            previous = Some(name);
        }
    }
}

/// Path segments that name a site section as often as they announce a number
/// (`/mobile/49476334/banner.jpg` is an image id on a mobile site): after one,
/// only a segment of at least 10 digits counts as a number.
fn is_generic_path_word(segment: &str) -> bool {
    [
        "mobile", "mob", "m", "line", "lines", "cli", "phone", "phones",
    ]
    .iter()
    .any(|w| w.eq_ignore_ascii_case(segment.trim()))
}

/// True for a national-only value that has the usual shape of a national
/// number with a trunk prefix: 9–12 digits starting with `0`. Other digit
/// strings under a phone-like key (dates, counters, timestamps) are not
/// taken without a region to check them against.
fn trunk_shaped(value: &str) -> bool {
    let mut digits = value.bytes().filter(u8::is_ascii_digit);
    let first = digits.next();
    first == Some(b'0') && (8..=11).contains(&digits.count())
}

/// True when a header value is a URL (absolute `http(s)://`), as in
/// `Referer` and `Origin`.
pub(crate) fn is_url(value: &str) -> bool {
    ["http://", "https://"].iter().any(|p| {
        value
            .get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scan(
        text: &str,
        f: impl FnOnce(&mut Scanner<'_, &mut dyn FnMut(Candidate)>),
    ) -> Vec<(String, Option<String>, bool, Where)> {
        let mut got = Vec::new();
        let mut push = |c: Candidate| got.push(c);
        {
            let mut s: Scanner<'_, &mut dyn FnMut(Candidate)> =
                Scanner::new(text, Region::parse("GB"), &mut push);
            f(&mut s);
        }
        got.into_iter()
            .map(|c| {
                (
                    text[c.span].to_string(),
                    c.parsed.number.map(|n| n.e164()),
                    c.keyed,
                    c.location,
                )
            })
            .collect()
    }

    /// Texts made of the pieces numbers, keys, markers and separators are
    /// made of, so that both finds and near misses are frequent.
    fn text_strategy() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => "[0-9]{1,15}",
            1 => "[1-9][0-9]{9,12}",
            1 => proptest::sample::select(vec![
                "447700900123", "+44", "+44 7700 900123", "%2B", "00", "0044 ", "tel:", "sip:",
                "sips:", "TEL:+", "msisdn=", "phone=", "id=", "mob=", "line=", "x=", "/", "?",
                "&", ";", ",", " ", "-", ".", "%20", "%2b", "(0)", "%3", "%34%34", "=", "\"",
                "http://h.example", "https://", "/msisdn/", "/mobile/", "/phone/", "#", "\t",
            ]).prop_map(str::to_string),
            2 => "[a-zA-Z]{1,6}",
            1 => "[ -~]{1,4}",
        ];
        proptest::collection::vec(piece, 0..14).prop_map(|v| v.concat())
    }

    type Found = Vec<Candidate>;
    type Dyn<'a, 'b> = Scanner<'a, &'b mut dyn FnMut(Candidate)>;

    /// Every scan the detector runs over `text`, with the prefilter on or off.
    fn every_scan(text: &str, region: Option<Region>, filtered: bool) -> [Found; 5] {
        let run = |f: &dyn Fn(&mut Dyn<'_, '_>)| {
            let mut got = Vec::new();
            let mut push = |c: Candidate| got.push(c);
            {
                let mut s: Scanner<'_, &mut dyn FnMut(Candidate)> = if filtered {
                    Scanner::new(text, region, &mut push)
                } else {
                    Scanner::unfiltered(text, region, &mut push)
                };
                f(&mut s);
            }
            got
        };
        let all = 0..text.len();
        [
            run(&|s| s.pairs(all.clone(), b",;&", Where::Header)),
            run(&|s| s.pairs(all.clone(), b";", Where::Cookie)),
            run(&|s| s.url(all.clone())),
            run(&|s| s.keyed_header(all.clone())),
            run(&|s| s.bare_numbers(all.clone())),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The digit prefilter never skips a text, part, value or segment the
        /// full scan would find something in.
        #[test]
        fn prefilter_skips_nothing_found(text in text_strategy(), gb in any::<bool>()) {
            let region = if gb { Region::parse("GB") } else { None };
            let full = every_scan(&text, region, false);
            prop_assert_eq!(&every_scan(&text, region, true), &full, "{:?}", text);
            if too_few_digits(&text) {
                prop_assert!(full.iter().all(Vec::is_empty), "{:?}: {:?}", text, full);
            }
            if cannot_hold_marked_or_keyed(&text) {
                prop_assert!(full[0].is_empty(), "{:?}: {:?}", text, full[0]);
            }
        }

        /// Whatever `parse` places has at least `MIN_DIGITS` digits in its text.
        #[test]
        fn numbers_have_min_digits(text in text_strategy(), gb in any::<bool>()) {
            let region = if gb { Region::parse("GB") } else { None };
            if parse(&text, region).is_some_and(|p| p.number.is_some()) {
                prop_assert!(!too_few_digits(&text), "{:?}", text);
            }
        }
    }

    #[test]
    fn bare_numbers_under_subscriber_names() {
        let v = "model=GT-I9100, 447700900123; net=3G";
        let got = scan(v, |s| s.bare_numbers(0..v.len()));
        assert_eq!(
            got,
            [(
                "447700900123".into(),
                Some("+447700900123".into()),
                false,
                Where::Header
            )]
        );
        for v in [
            "1362398400",
            "1362398400123",
            "20240131123045",
            "0447700900123",
            "00447700900123",
            "4477009001234567",
            "447700900123x",
            "a447700900123",
            "44 7700 900123",
            "99999999999",
            // Keys that say the digits are something else.
            "ts=447700900123",
            "seq=447700900123",
            "ip=447700900123",
            "hotel=447700900123",
            // An identifier key with anything but a bare number.
            "id=0447700900123",
            "id=447700900123x",
            "id==447700900123",
            "id=1362398400",
        ] {
            assert!(scan(v, |s| s.bare_numbers(0..v.len())).is_empty(), "{v}");
        }
        // The value of an identifier key counts, the key recorded.
        for (v, key) in [
            ("id=12025550181;plan=prepaid", "id"),
            ("plan=prepaid; sub=447700900123", "sub"),
            ("user_id=\"447700900123\"", "user_id"),
            ("subId=447700900123&x=1", "subId"),
        ] {
            let mut found = Vec::new();
            Scanner::new(v, None, |c: Candidate| {
                found.push((v[c.span].to_string(), c.key.map(|k| v[k].to_string())));
            })
            .bare_numbers(0..v.len());
            assert_eq!(found.len(), 1, "{v}");
            assert!(
                found[0].0.bytes().all(|b| b.is_ascii_digit()),
                "{v}: {found:?}"
            );
            assert_eq!(found[0].1.as_deref(), Some(key), "{v}");
        }
        for k in [
            "id", "ID", "sub", "sub_id", "subId", "userid", "acct-no", "x-uid",
        ] {
            assert!(is_identifier_key(k), "{k}");
        }
        for k in ["ts", "t", "seq", "exp", "ip", "idx", "paid", "hotel", ""] {
            assert!(!is_identifier_key(k), "{k}");
        }
        for n in [
            "X-Subscriber-Info",
            "x-subscriber-id",
            "X-Caller",
            "X-CallerNumber",
            "X-Calling-Station-Id",
            "X-Contact",
            "Contact-Number",
        ] {
            assert!(is_subscriber_name_model(n), "{n}");
        }
        for n in [
            "Host",
            "User-Agent",
            "X-Call",
            "X-Sub",
            "Content-Type",
            "X-Request-Id",
        ] {
            assert!(!is_subscriber_name_model(n), "{n}");
        }
        assert!(SUBSCRIBER_WORDS.iter().all(|w| w.len() <= 10));
        assert!(
            SUBSCRIBER_WORDS
                .iter()
                .all(|w| ["ca", "co", "su"].iter().any(|p| w.starts_with(p)))
        );
    }

    #[test]
    fn phone_keys() {
        for k in [
            "msisdn",
            "MSISDN",
            "phone",
            "userPhone",
            "user_phone",
            "phone_number",
            "PhoneNumber",
            "tel",
            "mobile",
            "mob",
            "cli",
            "line",
            "mdn",
            "x-up-calling-line-id",
            "User-Identity-Forward-msisdn",
            "custmsisdn",
            "userphone",
            "X-Caller-Id",
            "mobileNo",
        ] {
            assert!(is_phone_key(k), "{k}");
        }
        for k in [
            "hotel",
            "deadline",
            "online",
            "timeline",
            "id",
            "q",
            "ts",
            "cb",
            "_",
            "v",
            "page",
            "session",
            "number",
            "uid",
            "x-uidh",
            "x-up-subno",
            "",
            "telemetry",
            "mobilize",
            "client",
            "climate",
        ] {
            assert!(!is_phone_key(k), "{k}");
        }
    }

    #[test]
    fn stem_pairs_start_every_stem() {
        for stem in PHONE_STEMS {
            let b = stem.as_bytes();
            assert!(STEM_PAIRS.contains(&[b[0], b[1]]), "{stem}");
        }
    }

    #[test]
    fn stems_cover_every_word_and_suffix() {
        for w in PHONE_WORDS.iter().chain(PHONE_SUFFIXES) {
            assert!(PHONE_STEMS.iter().any(|s| w.contains(s)), "{w}");
        }
    }

    #[test]
    fn words_split() {
        let w: Vec<&str> = words("x-userPhone_no").collect();
        assert_eq!(w, ["x", "user", "Phone", "no"]);
        assert_eq!(words("").count(), 0);
        assert_eq!(words("--").count(), 0);
    }

    #[test]
    fn cookie_pairs() {
        let text = "edition=uk; msisdn=447700900123; sid=a8f3c2e1b7";
        let got = scan(text, |s| s.pairs(0..text.len(), b";", Where::Cookie));
        assert_eq!(
            got,
            [(
                "447700900123".into(),
                Some("+447700900123".into()),
                true,
                Where::Cookie
            )]
        );
    }

    #[test]
    fn query_forms() {
        for (target, want) in [
            ("/p?msisdn=447700900123&x=1", "447700900123"),
            ("/p?a=1&msisdn=%2B447700900123", "%2B447700900123"),
            ("/p?q=%2B44%207700%20900123", "%2B44%207700%20900123"),
            ("/p?to=tel:+447700900123", "tel:+447700900123"),
            ("/p?mob=07700900123", "07700900123"),
            ("/p?n=0044%207700900123", "0044%207700900123"),
            (
                "http://h.example/p?phone=+44-7700-900123#frag",
                "+44-7700-900123",
            ),
        ] {
            let got = scan(target, |s| s.url(0..target.len()));
            assert_eq!(got.len(), 1, "{target}: {got:?}");
            assert_eq!(got[0].0, want, "{target}");
            assert_eq!(got[0].1.as_deref(), Some("+447700900123"), "{target}");
            assert_eq!(got[0].3, Where::Query, "{target}");
        }
    }

    #[test]
    fn path_forms() {
        for (target, want) in [
            ("/users;msisdn=447700900123/profile", "447700900123"),
            ("/msisdn/447700900123/profile", "447700900123"),
            ("/lookup/%2B447700900123", "%2B447700900123"),
            ("/call/tel:+447700900123", "tel:+447700900123"),
        ] {
            let got = scan(target, |s| s.url(0..target.len()));
            assert_eq!(got.len(), 1, "{target}: {got:?}");
            assert_eq!(got[0].0, want, "{target}");
            assert_eq!(got[0].3, Where::Uri, "{target}");
        }
    }

    #[test]
    fn digit_runs_alone_are_not_enough() {
        for target in [
            "/p?id=447700900123",
            "/p?ts=1362398400123&cb=447700900123",
            "/447700900123",
            "/img/12025550123.png",
            "/p?v=1.2.3&ip=10.1.2.3",
            "/p?card=4111111111111111",
            "/p?q=a+447700900123",
            "/p?x=b%2B447700900123",
            "/p?x=+4477009001234567",
            "/p?x=+447700900123abc",
            "/p?x=x00447700900123",
            "/p?phone=abc",
            "/p?phone=0123456789",
            "/p?phone=99999999999",
            "/p?tel=1",
            "/p?order=0049123456789",
            "/story/0068848589",
            "/mobile/0612345678",
            // A section name, not a key: seen as a false leak on the benchmark capture.
            "/mobile/49476334/business_240x90.jpg",
            "/phones/4947633",
            "/p?geo=+44.1234567,-0.1234567",
            "/p?amount=+29069.49",
            "/p?x=+2901234",
            // A group of a card number, not a `00` prefix.
            "/p?card=4123-0065-6065-9410",
            "/p?ref=2012.0044.7700.900123",
        ] {
            let got = scan(target, |s| s.url(0..target.len()));
            assert!(got.is_empty(), "{target}: {got:?}");
        }
    }

    #[test]
    fn markers_in_values() {
        let v = "id=abc, +44 7700 900123 ext";
        let got = scan(v, |s| s.pairs(0..v.len(), b",;&", Where::Header));
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "+44 7700 900123");
        let v = "call 0044 7700 900123 now";
        let got = scan(v, |s| s.pairs(0..v.len(), b",;&", Where::Header));
        assert_eq!(got[0].0, "0044 7700 900123");
        let v = "call 00447700900123 now";
        assert!(scan(v, |s| s.pairs(0..v.len(), b",;&", Where::Header)).is_empty());
        let v = "+44 7700 900123 10";
        let got = scan(v, |s| s.pairs(0..v.len(), b",;&", Where::Header));
        assert_eq!(got[0].0, "+44 7700 900123", "shrinks to a valid number");
    }

    #[test]
    fn keyed_header_tokens() {
        let v = "447700900123, 10.1.2.3";
        let got = scan(v, |s| s.keyed_header(0..v.len()));
        assert_eq!(got[0].0, "447700900123");
        let v = "07700 900123";
        let got = scan(v, |s| s.keyed_header(0..v.len()));
        assert_eq!(got[0].1.as_deref(), Some("+447700900123"));
    }

    #[test]
    fn percent_decoding() {
        let mut buf = [0u8; MAX_DECODED];
        assert_eq!(
            percent_decode("%2B44%207700", &mut buf),
            Some(("+44 7700", true))
        );
        assert_eq!(percent_decode("%zz%4", &mut buf), Some(("%zz%4", false)));
        assert_eq!(percent_decode(&"1".repeat(200), &mut buf), None);
        assert_eq!(percent_decode("%ff", &mut buf), None);
    }

    #[test]
    fn split_and_trim() {
        let t = "a; b ;;c";
        let parts: Vec<&str> = split_ranges(t, 0..t.len(), b";")
            .map(|r| &t[trim_range(t, r)])
            .collect();
        assert_eq!(parts, ["a", "b", "", "c"]);
        assert_eq!(split_ranges("", 0..0, b";").count(), 1);
        assert!(is_url("HTTP://x/") && is_url("https://x") && !is_url("/x"));
    }
}
