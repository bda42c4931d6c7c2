//! Known numbers: the numbers a user gives (`--number`, `--numbers-file`),
//! found in any common form anywhere in a request.
//!
//! Built once per run ([`KnownNumbers::new`]):
//! - every number's digit forms (international `447700900123`, `00…`,
//!   national with trunk prefix `07700900123`, `0` + international; NANP also
//!   the 10-digit national number) go into one Aho-Corasick automaton;
//! - the MD5, SHA-1 and SHA-256 digests of every textual form (the same plus
//!   `+447700900123`) go into hash maps keyed by digest bytes.
//!
//! Matching a text ([`KnownNumbers::find`]) costs the same with one number or
//! ten thousand:
//! - digit runs (digits with spaces, dashes, dots, slashes, parentheses and
//!   their percent-escapes between them) are copied digit-only into a stack
//!   buffer and run through the automaton; a match must start and end at a
//!   digit-group boundary (`1447700900123` is not `447700900123`); a `+`
//!   or `%2B` just before an international match makes it the E.164 form;
//! - tokens of the base64/hex alphabets are decoded into a stack buffer:
//!   the decoded bytes are scanned for digit runs the same way (base64 and
//!   hex of any form, also inside a longer encoded text), and decoded tokens
//!   of digest length are looked up in the digest maps (hex and base64 of
//!   MD5, SHA-1, SHA-256).
//!
//! Nothing is allocated while matching.
use std::collections::HashMap;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use md5::Digest as _;

use super::number::{Form, PhoneNumber, trunk_prefix};

/// How a known number was encoded where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Encoding {
    /// Percent-encoded (`%2B44…`, `%20` between groups).
    #[serde(rename = "url")]
    Url,
    /// Base64 of the number's text (standard or URL-safe alphabet).
    #[serde(rename = "base64")]
    Base64,
    /// Hexadecimal of the number's text.
    #[serde(rename = "hex")]
    Hex,
    /// MD5 digest of the number's text, in hexadecimal.
    #[serde(rename = "md5-hex")]
    Md5Hex,
    /// MD5 digest, base64.
    #[serde(rename = "md5-base64")]
    Md5Base64,
    /// SHA-1 digest, hexadecimal.
    #[serde(rename = "sha1-hex")]
    Sha1Hex,
    /// SHA-1 digest, base64.
    #[serde(rename = "sha1-base64")]
    Sha1Base64,
    /// SHA-256 digest, hexadecimal.
    #[serde(rename = "sha256-hex")]
    Sha256Hex,
    /// SHA-256 digest, base64.
    #[serde(rename = "sha256-base64")]
    Sha256Base64,
}

impl Encoding {
    /// The encoding as written in output: `url`, `base64`, `hex`,
    /// `md5-hex`, `md5-base64`, `sha1-hex`, `sha1-base64`, `sha256-hex`,
    /// `sha256-base64`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Url => "url",
            Encoding::Base64 => "base64",
            Encoding::Hex => "hex",
            Encoding::Md5Hex => "md5-hex",
            Encoding::Md5Base64 => "md5-base64",
            Encoding::Sha1Hex => "sha1-hex",
            Encoding::Sha1Base64 => "sha1-base64",
            Encoding::Sha256Hex => "sha256-hex",
            Encoding::Sha256Base64 => "sha256-base64",
        }
    }

    /// True when the text found shows no digit of the number (base64, hex,
    /// digests): output masks the whole token.
    pub fn is_opaque(self) -> bool {
        !matches!(self, Encoding::Url)
    }
}

/// A known number found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMatch {
    /// Byte range in the text (the whole token for encoded forms).
    pub span: Range<usize>,
    /// Index of the number in [`KnownNumbers::numbers`].
    pub number: usize,
    /// The form of the number that was written (before encoding).
    pub form: Form,
    /// How that form was encoded; `None` when written plainly.
    pub encoding: Option<Encoding>,
}

/// The automaton could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the known-number automaton: {0}")]
pub struct BuildError(String);

type Map<K> = HashMap<K, (u32, Form), foldhash::fast::RandomState>;

/// The user's numbers, precomputed for matching. Build once and share.
#[derive(Debug, Clone, Default)]
pub struct KnownNumbers {
    numbers: Vec<PhoneNumber>,
    automaton: Option<AhoCorasick>,
    /// For each automaton pattern: the numbers and forms it stands for.
    patterns: Vec<Vec<(u32, Form)>>,
    md5: Map<[u8; 16]>,
    sha1: Map<[u8; 20]>,
    sha256: Map<[u8; 32]>,
}

/// The textual forms of a number: `(form, text)`.
fn forms(n: &PhoneNumber) -> Vec<(Form, String)> {
    let d = n.digits();
    let nsn = n.national();
    let trunk = trunk_prefix(n.country_code());
    let mut v = vec![
        (Form::Plus, format!("+{d}")),
        (Form::International, d.to_string()),
        (Form::DoubleZero, format!("00{d}")),
        (Form::ZeroInternational, format!("0{d}")),
    ];
    let national = format!("{trunk}{nsn}");
    if national != d {
        v.push((Form::National, national));
    }
    if !trunk.is_empty() && trunk != "0" {
        // NANP's 10 digits, Russia's without the 8, ...
        v.push((Form::National, nsn.to_string()));
    }
    v
}

/// Digits and the separators allowed between them in a written number.
fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'-' | b'.' | b'(' | b')' | b'/')
}

/// Length of a percent-escape of a separator at `i` (`%20`, `%2D`, `%2E`,
/// `%2F`), else 0.
fn escaped_separator(bytes: &[u8], i: usize) -> usize {
    let is = bytes.get(i) == Some(&b'%')
        && bytes.get(i + 1) == Some(&b'2')
        && matches!(
            bytes.get(i + 2),
            Some(b'0' | b'D' | b'd' | b'E' | b'e' | b'F' | b'f')
        );
    if is { 3 } else { 0 }
}

/// Most digits of one run looked at (longer runs are cut in pieces).
const MAX_RUN: usize = 64;
/// Longest base64 or hex token decoded.
const MAX_TOKEN: usize = 512;

fn b64_engine(url_safe: bool) -> GeneralPurpose {
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let alphabet = if url_safe {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    GeneralPurpose::new(alphabet, config)
}

/// The base64 byte a percent-escape at `i` stands for (`%2B`, `%2F`, `%3D`).
fn escaped_token_byte(bytes: &[u8], i: usize) -> Option<u8> {
    let (h, l) = (bytes.get(i + 1)?, bytes.get(i + 2)?);
    match (h, l.to_ascii_uppercase()) {
        (b'2', b'B') => Some(b'+'),
        (b'2', b'F') => Some(b'/'),
        (b'3', b'D') => Some(b'='),
        _ => None,
    }
}

/// True when a hex token may hold a group of five or more ASCII digits:
/// five aligned pairs `3` + decimal digit in a row. Other hex tokens are
/// decoded only when they have a digest's length.
fn hex_may_hold_digits(token: &[u8]) -> bool {
    let mut run = 0usize;
    for pair in token.chunks_exact(2) {
        if matches!(pair, [b'3', b'0'..=b'9']) {
            run += 1;
            if run >= 5 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// True when a base64 token may hold a group of five or more ASCII digits:
/// five digits in a row always contain three aligned on a 3-byte group,
/// which encode as `[MNO][DTjz][AEIMQUYcgk][w-z0-5]`. Other base64 tokens
/// are decoded only when they have a digest's length.
fn b64_may_hold_digits(token: &[u8]) -> bool {
    token.chunks_exact(4).any(|g| match g {
        [b'M' | b'N' | b'O', b'D' | b'T' | b'j' | b'z', c, d] => {
            b"AEIMQUYcgk".contains(c) && matches!(d, b'w'..=b'z' | b'0'..=b'5')
        }
        _ => false,
    })
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

impl KnownNumbers {
    /// Precomputes every form, encoding and digest of `numbers`.
    pub fn new(numbers: Vec<PhoneNumber>) -> Result<Self, BuildError> {
        let mut known = KnownNumbers {
            numbers,
            ..KnownNumbers::default()
        };
        let mut by_text: HashMap<String, usize> = HashMap::new();
        let mut texts: Vec<String> = Vec::new();
        for (i, n) in known.numbers.iter().enumerate() {
            let i = u32::try_from(i).map_err(|e| BuildError(e.to_string()))?;
            for (form, text) in forms(n) {
                known
                    .md5
                    .insert(md5::Md5::digest(text.as_bytes()).into(), (i, form));
                known
                    .sha1
                    .insert(sha1::Sha1::digest(text.as_bytes()).into(), (i, form));
                known
                    .sha256
                    .insert(sha2::Sha256::digest(text.as_bytes()).into(), (i, form));
                if form == Form::Plus {
                    continue; // digit runs carry no '+': found as International
                }
                let at = *by_text.entry(text.clone()).or_insert_with(|| {
                    texts.push(text);
                    known.patterns.push(Vec::new());
                    known.patterns.len() - 1
                });
                if let Some(p) = known.patterns.get_mut(at) {
                    p.push((i, form));
                }
            }
        }
        if !texts.is_empty() {
            let ac = AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(&texts)
                .map_err(|e| BuildError(e.to_string()))?;
            known.automaton = Some(ac);
        }
        Ok(known)
    }

    /// The numbers, in the order given.
    pub fn numbers(&self) -> &[PhoneNumber] {
        &self.numbers
    }

    /// True when there is no number to look for.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// Calls `hit` for each known number found in `text`, in the order
    /// found (digit forms first, then encoded tokens).
    pub fn find(&self, text: &str, mut hit: impl FnMut(KnownMatch)) {
        if self.is_empty() {
            return;
        }
        let bytes = text.as_bytes();
        self.digit_runs(bytes, &mut |span, number, form| {
            let raw = bytes.get(span.clone()).unwrap_or_default();
            let encoding = raw.contains(&b'%').then_some(Encoding::Url);
            hit(KnownMatch {
                span,
                number: number as usize,
                form,
                encoding,
            });
        });
        self.tokens(bytes, &mut hit);
    }

    /// Digit runs of `bytes` through the automaton.
    fn digit_runs(&self, bytes: &[u8], hit: &mut dyn FnMut(Range<usize>, u32, Form)) {
        let Some(ac) = &self.automaton else { return };
        let mut proj = [0u8; MAX_RUN];
        let mut pos = [0usize; MAX_RUN];
        let mut n = 0usize;
        let mut i = 0usize;
        while i <= bytes.len() {
            let b = bytes.get(i).copied();
            if let Some(d) = b.filter(u8::is_ascii_digit) {
                if n == MAX_RUN {
                    self.run(ac, bytes, &proj, &pos, n, hit);
                    n = 0;
                }
                if let (Some(p), Some(q)) = (proj.get_mut(n), pos.get_mut(n)) {
                    *p = d;
                    *q = i;
                    n += 1;
                }
                i += 1;
                continue;
            }
            if n > 0 {
                let esc = escaped_separator(bytes, i);
                if esc > 0 {
                    i += esc;
                    continue;
                }
                if b.is_some_and(is_separator) {
                    i += 1;
                    continue;
                }
                self.run(ac, bytes, &proj, &pos, n, hit);
                n = 0;
            }
            i += 1;
        }
    }

    /// Matches in one digit run: `proj[..n]` are its digits, `pos[..n]` where
    /// they are in `bytes`.
    fn run(
        &self,
        ac: &AhoCorasick,
        bytes: &[u8],
        proj: &[u8; MAX_RUN],
        pos: &[usize; MAX_RUN],
        n: usize,
        hit: &mut dyn FnMut(Range<usize>, u32, Form),
    ) {
        let Some(digits) = proj.get(..n) else { return };
        if n < 7 {
            return;
        }
        let at = |k: usize| pos.get(k).copied();
        // A match starts and ends at a group boundary: no digit right before
        // or after it in the text.
        let group_start =
            |a: usize| a == 0 || matches!((at(a - 1), at(a)), (Some(p), Some(q)) if q > p + 1);
        let group_end =
            |b: usize| b >= n || matches!((at(b - 1), at(b)), (Some(p), Some(q)) if q > p + 1);
        for m in ac.find_overlapping_iter(digits) {
            let (a, b) = (m.start(), m.end());
            if !group_start(a) || !group_end(b) {
                continue;
            }
            let (Some(first), Some(last)) = (at(a), at(b - 1)) else {
                continue;
            };
            let plus = first.checked_sub(1).and_then(|p| bytes.get(p)) == Some(&b'+');
            let escaped_plus = first >= 3
                && bytes.get(first - 3) == Some(&b'%')
                && bytes.get(first - 2) == Some(&b'2')
                && matches!(bytes.get(first - 1), Some(b'B' | b'b'));
            for &(number, form) in self
                .patterns
                .get(m.pattern().as_usize())
                .into_iter()
                .flatten()
            {
                let (start, form) = match form {
                    Form::International if plus => (first - 1, Form::Plus),
                    Form::International if escaped_plus => (first - 3, Form::Plus),
                    _ => (first, form),
                };
                hit(start..last + 1, number, form);
            }
        }
    }

    /// Base64 and hex tokens (percent-escaped `+`, `/`, `=` included, as
    /// in query strings): decoded and scanned, digests looked up.
    fn tokens(&self, bytes: &[u8], hit: &mut impl FnMut(KnownMatch)) {
        let mut tok = [0u8; MAX_TOKEN];
        let mut i = 0usize;
        while i < bytes.len() {
            if !bytes.get(i).copied().is_some_and(is_token_byte) {
                i += 1;
                continue;
            }
            let start = i;
            let mut n = 0usize;
            let mut padding = 0usize;
            loop {
                let (byte, step) = match bytes.get(i).copied() {
                    Some(b'%') => match escaped_token_byte(bytes, i) {
                        Some(b) => (b, 3),
                        None => break,
                    },
                    Some(b) => (b, 1),
                    None => break,
                };
                // Padding ends the token: at most two `=` after the body.
                if byte == b'=' && padding < 2 && n > 0 {
                    padding += 1;
                    i += step;
                    continue;
                }
                if padding > 0 || !is_token_byte(byte) {
                    break;
                }
                if let Some(slot) = tok.get_mut(n) {
                    *slot = byte;
                }
                n += 1;
                i += step;
            }
            let body = tok.get(..n).unwrap_or_default();
            if n <= MAX_TOKEN && body.len() >= 10 {
                self.token(body, start..i, hit);
            }
        }
    }

    fn token(&self, token: &[u8], span: Range<usize>, hit: &mut impl FnMut(KnownMatch)) {
        let mut buf = [0u8; MAX_TOKEN];
        let mut found = false;
        let mut report = |number: u32, form: Form, encoding: Encoding, found: &mut bool| {
            *found = true;
            hit(KnownMatch {
                span: span.clone(),
                number: number as usize,
                form,
                encoding: Some(encoding),
            });
        };
        // Hexadecimal.
        if token.len().is_multiple_of(2) && token.iter().all(u8::is_ascii_hexdigit) {
            let digest_len = matches!(token.len(), 32 | 40 | 64);
            let digits = hex_may_hold_digits(token);
            if !digest_len && !digits {
                return;
            }
            let n = token.len() / 2;
            for (k, pair) in token.chunks_exact(2).enumerate() {
                if let (Some(slot), [h, l]) = (buf.get_mut(k), pair)
                    && let (Some(h), Some(l)) = (hex_value(*h), hex_value(*l))
                {
                    *slot = h * 16 + l;
                }
            }
            let decoded = buf.get(..n).unwrap_or_default();
            if let Some(&(number, form)) = self.digest(decoded) {
                let enc = match n {
                    16 => Encoding::Md5Hex,
                    20 => Encoding::Sha1Hex,
                    _ => Encoding::Sha256Hex,
                };
                report(number, form, enc, &mut found);
            }
            self.digit_runs(decoded, &mut |_, number, form| {
                report(number, form, Encoding::Hex, &mut found);
            });
            if found {
                return;
            }
        }
        // Base64: the standard alphabet, or the URL-safe one when the token
        // uses it (both agree on letters and digits).
        let digest_len = matches!(token.len(), 22 | 27 | 43);
        if !digest_len && !b64_may_hold_digits(token) {
            return;
        }
        let url_safe = token.iter().any(|b| matches!(b, b'-' | b'_'));
        if url_safe && token.iter().any(|b| matches!(b, b'+' | b'/')) {
            return;
        }
        let Ok(n) = b64_engine(url_safe).decode_slice(token, &mut buf) else {
            return;
        };
        let decoded = buf.get(..n).unwrap_or_default();
        if let Some(&(number, form)) = self.digest(decoded) {
            let enc = match n {
                16 => Encoding::Md5Base64,
                20 => Encoding::Sha1Base64,
                _ => Encoding::Sha256Base64,
            };
            report(number, form, enc, &mut found);
        }
        self.digit_runs(decoded, &mut |_, number, form| {
            report(number, form, Encoding::Base64, &mut found);
        });
    }

    /// Looks decoded bytes of digest length up.
    fn digest(&self, decoded: &[u8]) -> Option<&(u32, Form)> {
        match decoded.len() {
            16 => self.md5.get(<&[u8; 16]>::try_from(decoded).ok()?),
            20 => self.sha1.get(<&[u8; 20]>::try_from(decoded).ok()?),
            32 => self.sha256.get(<&[u8; 32]>::try_from(decoded).ok()?),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::detect::number::parse_international;

    fn known(numbers: &[&str]) -> KnownNumbers {
        KnownNumbers::new(
            numbers
                .iter()
                .map(|n| parse_international(n).unwrap())
                .collect(),
        )
        .unwrap()
    }

    fn hits(k: &KnownNumbers, text: &str) -> Vec<(String, usize, Form, Option<Encoding>)> {
        let mut v = Vec::new();
        k.find(text, |m| {
            v.push((text[m.span].to_string(), m.number, m.form, m.encoding));
        });
        v
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn plain_forms() {
        let k = known(&["+447700900123", "+12025550143"]);
        for (text, want, form) in [
            ("447700900123", "447700900123", Form::International),
            ("x +447700900123 y", "+447700900123", Form::Plus),
            ("00447700900123", "00447700900123", Form::DoubleZero),
            ("07700 900123", "07700 900123", Form::National),
            ("0447700900123", "0447700900123", Form::ZeroInternational),
            ("+44 7700-900-123", "+44 7700-900-123", Form::Plus),
            ("id=447700900123&x", "447700900123", Form::International),
            ("user447700900123abc", "447700900123", Form::International),
            ("(202) 555-0143", "202) 555-0143", Form::National),
        ] {
            let h = hits(&k, text);
            assert_eq!(h.len(), 1, "{text}: {h:?}");
            assert_eq!(
                (h[0].0.as_str(), h[0].2, h[0].3),
                (want, form, None),
                "{text}"
            );
        }
        let h = hits(&k, "%2B44%207700%20900123");
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h[0].0, "%2B44%207700%20900123");
        assert_eq!((h[0].2, h[0].3), (Form::Plus, Some(Encoding::Url)));
        assert_eq!(hits(&k, "12025550143")[0].1, 1);
    }

    #[test]
    fn not_inside_longer_numbers() {
        let k = known(&["+447700900123"]);
        for text in [
            "1447700900123",
            "4477009001234",
            "44770090012",
            "7700900123",
            "",
        ] {
            assert!(hits(&k, text).is_empty(), "{text}");
        }
    }

    #[test]
    fn encoded_forms() {
        let k = known(&["+447700900123"]);
        for form in [
            "+447700900123",
            "447700900123",
            "00447700900123",
            "07700900123",
        ] {
            let h = hits(&k, &format!("v={}", b64(form)));
            assert!(
                h.iter().any(|x| x.3 == Some(Encoding::Base64)),
                "{form}: {h:?}"
            );
            let h = hits(&k, &format!("v={}", hex(form.as_bytes()).to_uppercase()));
            assert!(
                h.iter().any(|x| x.3 == Some(Encoding::Hex)),
                "{form}: {h:?}"
            );
            let md5: [u8; 16] = md5::Md5::digest(form.as_bytes()).into();
            let sha1: [u8; 20] = sha1::Sha1::digest(form.as_bytes()).into();
            let sha256: [u8; 32] = sha2::Sha256::digest(form.as_bytes()).into();
            for (text, enc) in [
                (hex(&md5), Encoding::Md5Hex),
                (hex(&sha1).to_uppercase(), Encoding::Sha1Hex),
                (hex(&sha256), Encoding::Sha256Hex),
                (
                    base64::engine::general_purpose::STANDARD.encode(md5),
                    Encoding::Md5Base64,
                ),
                (
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha1),
                    Encoding::Sha1Base64,
                ),
                (
                    base64::engine::general_purpose::STANDARD.encode(sha256),
                    Encoding::Sha256Base64,
                ),
            ] {
                let h = hits(&k, &format!("a; h={text}; b"));
                assert_eq!(h.len(), 1, "{form} {enc:?}: {h:?}");
                assert_eq!(h[0].0, text);
                assert_eq!(h[0].3, Some(enc));
            }
        }
        // Percent-escaped in a query string.
        let md5: [u8; 16] = md5::Md5::digest(b"447700900123").into();
        let b = base64::engine::general_purpose::STANDARD.encode(md5);
        let escaped = b
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        let h = hits(&k, &format!("/t?u={escaped}&x=1"));
        assert_eq!(h.len(), 1, "{escaped}: {h:?}");
        assert_eq!(
            (h[0].0.as_str(), h[0].3),
            (escaped.as_str(), Some(Encoding::Md5Base64))
        );
        // Inside a longer base64 text.
        let h = hits(&k, &b64("{\"msisdn\":\"447700900123\",\"x\":1}"));
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h[0].3, Some(Encoding::Base64));
        // Unrelated tokens.
        for text in [
            b64("447700900124"),
            hex(b"07700900124"),
            "5d41402abc4b2a76b9719d911017c592".into(),
        ] {
            assert!(hits(&k, &text).is_empty(), "{text}");
        }
    }

    #[test]
    fn prefilters_pass_every_digit_triple() {
        // Every aligned triple of ASCII digits passes the base64 prefilter,
        // and five digits at any offset contain one.
        for n in 0..1000 {
            let t = format!("{n:03}");
            assert!(b64_may_hold_digits(b64(&t).as_bytes()), "{t}");
        }
        for prefix in ["", "a", "ab"] {
            let t = format!("{prefix}90123x");
            assert!(b64_may_hold_digits(b64(&t).as_bytes()), "{t}");
        }
        assert!(!b64_may_hold_digits(b"QWxhZGRpbjpvcGVuIHNlc2FtZQ"));
        assert!(hex_may_hold_digits(hex(b"ab90123").as_bytes()));
        assert!(!hex_may_hold_digits(hex(b"ab9012").as_bytes()));
    }

    #[test]
    fn many_numbers_share_nothing_by_mistake() {
        let numbers: Vec<String> = (0..2000).map(|i| format!("+4477009{i:05}")).collect();
        let refs: Vec<&str> = numbers.iter().map(String::as_str).collect();
        let k = known(&refs);
        let h = hits(&k, "x=447700901999; y=07700900777");
        let found: Vec<usize> = h.iter().map(|x| x.1).collect();
        assert_eq!(found, [1999, 777]);
    }

    #[test]
    fn empty_finds_nothing() {
        let k = KnownNumbers::default();
        assert!(k.is_empty() && hits(&k, "447700900123").is_empty());
    }
}
