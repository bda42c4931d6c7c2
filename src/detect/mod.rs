//! Leak detection: decides which headers of one request leak a subscriber's
//! phone number (MSISDN) or another subscriber identifier.
//!
//! In: the headers of one [`crate::http::Request`], in wire order. Out: one
//! [`Leak`] per leaking header, in header order. Detection is by header name
//! (the [`catalogue`] plus the documented suffix rule); the value decides the
//! confidence and whether a [`PhoneNumber`] was recovered. Headers with
//! other names are not looked at (value-based detection comes later). Empty,
//! `-`, `null` and `unknown` values are not leaks.
//!
//! Privacy: a recovered number is only ever shown masked
//! ([`PhoneNumber::masked`], [`mask_value`]); `Debug` of a `PhoneNumber` is
//! masked too. See `docs/headers.md`.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

pub mod catalogue;
pub mod number;

pub use number::PhoneNumber;

use crate::http::Header;
use number::parse_international;

/// What a leak is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeakKind {
    /// A header that carries the phone number (MSISDN/MDN), clear or encoded.
    MsisdnHeader,
    /// A header that carries another subscriber or device identifier (IMSI,
    /// IMEI, opaque tracking ID).
    SubscriberIdHeader,
}

impl LeakKind {
    /// The kind as written in output: `msisdn-header`, `subscriber-id-header`.
    pub fn as_str(self) -> &'static str {
        match self {
            LeakKind::MsisdnHeader => "msisdn-header",
            LeakKind::SubscriberIdHeader => "subscriber-id-header",
        }
    }
}

/// How sure the detector is that a finding is a real leak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Known name, but the value did not show what was expected.
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
}

/// One finding in one header of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// Index of the header in the request's header list.
    pub header_index: usize,
    /// What leaked.
    pub kind: LeakKind,
    /// How sure the detector is.
    pub confidence: Confidence,
    /// The phone number recovered from the value, if any.
    pub number: Option<PhoneNumber>,
}

/// Detects leaks in request headers. Stateless after construction: build
/// once and share (it is `Send + Sync`).
#[derive(Debug, Clone, Default)]
pub struct Detector {
    _private: (),
}

/// How a header name was recognised.
struct NameMatch {
    kind: LeakKind,
    tier: u8,
    by_value: bool,
}

fn classify_name(name: &str) -> Option<NameMatch> {
    if let Some(e) = catalogue::lookup(name) {
        return Some(NameMatch {
            kind: e.kind,
            tier: e.tier,
            by_value: e.by_value,
        });
    }
    catalogue::suffix_rule(name).then_some(NameMatch {
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

/// Finds an international number in a header value: the whole value, else
/// each `,`/`;`-separated part, else each whitespace-separated token.
fn find_number(value: &str) -> Option<PhoneNumber> {
    if let Some(n) = parse_international(value) {
        return Some(n);
    }
    let mut parts = value.split([',', ';']).map(str::trim);
    let several_parts = value.contains([',', ';']);
    parts.find_map(|part| {
        let whole = if several_parts {
            parse_international(part)
        } else {
            None
        };
        whole.or_else(|| {
            part.split_whitespace()
                .filter(|t| *t != part)
                .find_map(parse_international)
        })
    })
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

impl Detector {
    /// Builds a detector over the built-in catalogue.
    pub fn new() -> Self {
        Detector { _private: () }
    }

    /// Inspects one request's headers; returns the leaks in header order
    /// (an empty, unallocated `Vec` when there are none).
    pub fn inspect(&self, headers: &[Header]) -> Vec<Leak> {
        let mut leaks = Vec::new();
        for (header_index, h) in headers.iter().enumerate() {
            let Some(m) = classify_name(&h.name) else {
                continue;
            };
            let value = h.value.trim();
            if is_blank(value) {
                continue;
            }
            if let Some(leak) = judge(header_index, &m, value) {
                leaks.push(leak);
            }
        }
        leaks
    }
}

/// Applies the value rules to a header whose name matched.
fn judge(header_index: usize, m: &NameMatch, value: &str) -> Option<Leak> {
    let leak = |kind, confidence, number| Leak {
        header_index,
        kind,
        confidence,
        number,
    };
    if m.by_value {
        // x-up-subno: an MSISDN at some operators, an opaque ID at others.
        if let Some(n) = find_number(value).filter(|n| (8..=15).contains(&n.digits().len())) {
            return Some(leak(LeakKind::MsisdnHeader, Confidence::Medium, Some(n)));
        }
        return Some(leak(
            LeakKind::SubscriberIdHeader,
            subscriber_confidence(value),
            None,
        ));
    }
    Some(match m.kind {
        LeakKind::MsisdnHeader => match find_number(value) {
            Some(n) if m.tier == 1 => leak(LeakKind::MsisdnHeader, Confidence::High, Some(n)),
            Some(n) => leak(LeakKind::MsisdnHeader, Confidence::Medium, Some(n)),
            None => leak(LeakKind::MsisdnHeader, Confidence::Low, None),
        },
        LeakKind::SubscriberIdHeader => leak(
            LeakKind::SubscriberIdHeader,
            subscriber_confidence(value),
            None,
        ),
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> Header {
        Header {
            name: name.to_string(),
            value: value.to_string(),
        }
    }

    fn one(name: &str, value: &str) -> Option<Leak> {
        let mut v = Detector::new().inspect(&[h(name, value)]);
        assert!(v.len() <= 1);
        v.pop()
    }

    fn num(v: &str) -> PhoneNumber {
        parse_international(v).unwrap()
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
    fn o2_2012() {
        let headers = [
            h("Host", "www.example.com"),
            h("User-Agent", "Mozilla/5.0"),
            h("x-up-calling-line-id", "447700900123"),
            h("Accept", "*/*"),
        ];
        let leaks = Detector::new().inspect(&headers);
        assert_eq!(
            leaks,
            vec![Leak {
                header_index: 2,
                kind: LeakKind::MsisdnHeader,
                confidence: Confidence::High,
                number: Some(num("+447700900123")),
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
            ("Cookie", "msisdn=447700900123"),
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
        assert!(Detector::new().inspect(&[]).is_empty());
        let v = Detector::new().inspect(&[h("Host", "a"), h("Accept", "*/*")]);
        assert_eq!(v.capacity(), 0, "no allocation without leaks");
    }

    #[test]
    fn several_leaks_in_header_order() {
        let headers = [
            h("X-UIDH", "abcdef"),
            h("Host", "example.com"),
            h("MSISDN", "12025550123"),
            h("x-msisdn", "12025550123"),
        ];
        let leaks = Detector::new().inspect(&headers);
        let idx: Vec<_> = leaks.iter().map(|l| (l.header_index, l.kind)).collect();
        assert_eq!(
            idx,
            [
                (0, LeakKind::SubscriberIdHeader),
                (2, LeakKind::MsisdnHeader),
                (3, LeakKind::MsisdnHeader)
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
                for l in det.inspect(&headers) {
                    assert!(l.header_index < 2);
                    if let Some(n) = &l.number {
                        let m = mask_value(&headers[l.header_index].value, Some(n));
                        assert!(!m.contains(n.national()), "{v:?} -> {m:?}");
                    }
                }
            }
        }
    }
}
