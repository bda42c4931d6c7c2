//! International phone numbers: the E.164 country-code table, parsing of
//! header values into a normalised [`PhoneNumber`], and masking.
//!
//! Numbers are judged by shape only: a known country calling code followed by
//! a national significant number (NSN) whose length is in that country's
//! range, at most 15 digits in all. No number is looked up anywhere, so
//! fictional ranges such as the UK drama numbers `07700 900xxx` are accepted.

use std::fmt;

/// Country calling codes (ITU-T E.164, 1–3 digits, prefix-free) with the
/// minimum and maximum length of the national significant number.
///
/// Sorted by code; the international services codes (+800, +808, +870,
/// +881–+883, +888, +979, +991) are left out on purpose. `(code, min, max)`.
static COUNTRIES: &[(u16, u8, u8)] = &[
    (1, 10, 10),  // NANP: US, CA and the Caribbean
    (7, 10, 10),  // RU, KZ
    (20, 8, 10),  // EG
    (27, 9, 9),   // ZA
    (30, 10, 10), // GR
    (31, 9, 10),  // NL
    (32, 8, 9),   // BE
    (33, 9, 9),   // FR
    (34, 9, 9),   // ES
    (36, 8, 9),   // HU
    (39, 6, 11),  // IT, VA
    (40, 9, 9),   // RO
    (41, 9, 9),   // CH
    (43, 7, 13),  // AT
    (44, 9, 10),  // GB, GG, IM, JE
    (45, 8, 8),   // DK
    (46, 7, 10),  // SE
    (47, 8, 8),   // NO, SJ
    (48, 9, 9),   // PL
    (49, 6, 13),  // DE
    (51, 8, 9),   // PE
    (52, 10, 11), // MX (11 with the old mobile "1")
    (53, 6, 8),   // CU
    (54, 10, 11), // AR (11 with the mobile "9")
    (55, 10, 11), // BR
    (56, 9, 9),   // CL
    (57, 8, 10),  // CO
    (58, 10, 10), // VE
    (60, 8, 10),  // MY
    (61, 9, 9),   // AU, CX, CC
    (62, 7, 12),  // ID
    (63, 8, 10),  // PH
    (64, 8, 10),  // NZ
    (65, 8, 8),   // SG
    (66, 8, 9),   // TH
    (81, 9, 10),  // JP
    (82, 8, 11),  // KR
    (84, 9, 10),  // VN
    (86, 8, 11),  // CN
    (90, 10, 10), // TR
    (91, 10, 10), // IN
    (92, 9, 10),  // PK
    (93, 9, 9),   // AF
    (94, 9, 9),   // LK
    (95, 7, 10),  // MM
    (98, 10, 10), // IR
    (211, 9, 9),  // SS
    (212, 9, 9),  // MA, EH
    (213, 8, 9),  // DZ
    (216, 8, 8),  // TN
    (218, 8, 9),  // LY
    (220, 7, 7),  // GM
    (221, 9, 9),  // SN
    (222, 8, 8),  // MR
    (223, 8, 8),  // ML
    (224, 8, 9),  // GN
    (225, 8, 10), // CI
    (226, 8, 8),  // BF
    (227, 8, 8),  // NE
    (228, 8, 8),  // TG
    (229, 8, 10), // BJ
    (230, 7, 8),  // MU
    (231, 7, 9),  // LR
    (232, 8, 8),  // SL
    (233, 9, 9),  // GH
    (234, 7, 10), // NG
    (235, 8, 8),  // TD
    (236, 8, 8),  // CF
    (237, 8, 9),  // CM
    (238, 7, 7),  // CV
    (239, 7, 7),  // ST
    (240, 9, 9),  // GQ
    (241, 7, 8),  // GA
    (242, 9, 9),  // CG
    (243, 7, 9),  // CD
    (244, 9, 9),  // AO
    (245, 7, 9),  // GW
    (246, 7, 7),  // IO
    (247, 4, 6),  // AC
    (248, 7, 7),  // SC
    (249, 9, 9),  // SD
    (250, 9, 9),  // RW
    (251, 9, 9),  // ET
    (252, 6, 9),  // SO
    (253, 8, 8),  // DJ
    (254, 9, 10), // KE
    (255, 9, 9),  // TZ
    (256, 9, 9),  // UG
    (257, 8, 8),  // BI
    (258, 8, 9),  // MZ
    (260, 9, 9),  // ZM
    (261, 9, 9),  // MG
    (262, 9, 9),  // RE, YT
    (263, 5, 10), // ZW
    (264, 8, 9),  // NA
    (265, 7, 9),  // MW
    (266, 8, 8),  // LS
    (267, 7, 8),  // BW
    (268, 8, 8),  // SZ
    (269, 7, 7),  // KM
    (290, 4, 5),  // SH, TA
    (291, 7, 7),  // ER
    (297, 7, 7),  // AW
    (298, 6, 6),  // FO
    (299, 6, 6),  // GL
    (350, 8, 8),  // GI
    (351, 9, 9),  // PT
    (352, 4, 11), // LU
    (353, 7, 9),  // IE
    (354, 7, 9),  // IS
    (355, 8, 9),  // AL
    (356, 8, 8),  // MT
    (357, 8, 8),  // CY
    (358, 6, 12), // FI, AX
    (359, 7, 9),  // BG
    (370, 8, 8),  // LT
    (371, 8, 8),  // LV
    (372, 7, 10), // EE
    (373, 8, 8),  // MD
    (374, 8, 8),  // AM
    (375, 9, 10), // BY
    (376, 6, 9),  // AD
    (377, 8, 9),  // MC
    (378, 6, 10), // SM
    (380, 9, 9),  // UA
    (381, 6, 12), // RS
    (382, 8, 8),  // ME
    (383, 8, 8),  // XK
    (385, 8, 9),  // HR
    (386, 8, 8),  // SI
    (387, 8, 9),  // BA
    (389, 8, 8),  // MK
    (420, 9, 9),  // CZ
    (421, 9, 9),  // SK
    (423, 7, 9),  // LI
    (500, 5, 5),  // FK
    (501, 7, 7),  // BZ
    (502, 8, 8),  // GT
    (503, 8, 8),  // SV
    (504, 8, 8),  // HN
    (505, 8, 8),  // NI
    (506, 8, 8),  // CR
    (507, 7, 8),  // PA
    (508, 6, 6),  // PM
    (509, 8, 8),  // HT
    (590, 9, 9),  // GP, BL, MF
    (591, 8, 8),  // BO
    (592, 7, 7),  // GY
    (593, 8, 9),  // EC
    (594, 9, 9),  // GF
    (595, 9, 9),  // PY
    (596, 9, 9),  // MQ
    (597, 6, 7),  // SR
    (598, 8, 8),  // UY
    (599, 7, 8),  // CW, BQ
    (670, 7, 8),  // TL
    (672, 6, 6),  // NF, AQ
    (673, 7, 7),  // BN
    (674, 7, 7),  // NR
    (675, 7, 8),  // PG
    (676, 5, 7),  // TO
    (677, 5, 7),  // SB
    (678, 5, 7),  // VU
    (679, 7, 7),  // FJ
    (680, 7, 7),  // PW
    (681, 6, 9),  // WF
    (682, 5, 5),  // CK
    (683, 4, 7),  // NU
    (685, 5, 10), // WS
    (686, 5, 8),  // KI
    (687, 6, 6),  // NC
    (688, 5, 7),  // TV
    (689, 6, 8),  // PF
    (690, 4, 7),  // TK
    (691, 7, 7),  // FM
    (692, 7, 7),  // MH
    (850, 8, 10), // KP
    (852, 8, 8),  // HK
    (853, 8, 8),  // MO
    (855, 8, 9),  // KH
    (856, 8, 10), // LA
    (880, 8, 10), // BD
    (886, 8, 9),  // TW
    (960, 7, 7),  // MV
    (961, 7, 8),  // LB
    (962, 8, 9),  // JO
    (963, 8, 9),  // SY
    (964, 8, 10), // IQ
    (965, 8, 8),  // KW
    (966, 9, 9),  // SA
    (967, 7, 9),  // YE
    (968, 8, 8),  // OM
    (970, 8, 9),  // PS
    (971, 8, 9),  // AE
    (972, 8, 9),  // IL
    (973, 8, 8),  // BH
    (974, 8, 8),  // QA
    (975, 7, 8),  // BT
    (976, 8, 8),  // MN
    (977, 8, 10), // NP
    (992, 9, 9),  // TJ
    (993, 8, 8),  // TM
    (994, 9, 9),  // AZ
    (995, 9, 9),  // GE
    (996, 9, 9),  // KG
    (998, 9, 9),  // UZ
];

/// Longest E.164 number, country code included.
const MAX_E164_DIGITS: usize = 15;

/// How many digits [`parse_international`] collects before giving up
/// (15 plus a `00` prefix plus slack).
const MAX_COLLECT: usize = 18;

/// An international phone number in E.164 form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    /// Country code and national significant number, ASCII digits, no `+`.
    digits: String,
    /// How many leading digits of `digits` are the country code (1–3).
    cc_len: u8,
}

// Debug shows the masked form only, so a stray `{:?}` cannot leak a number.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.masked()).finish()
    }
}

impl PhoneNumber {
    /// The number in E.164 form, e.g. `+447700900123`. Unmasked: for
    /// matching only, never for output.
    pub fn e164(&self) -> String {
        let mut s = String::with_capacity(self.digits.len() + 1);
        s.push('+');
        s.push_str(&self.digits);
        s
    }

    /// The number for output: `+`, the country code and the last three
    /// digits, `*` for every other digit, e.g. `+44*******123`.
    pub fn masked(&self) -> String {
        let cc = usize::from(self.cc_len);
        let n = self.digits.len();
        let mut s = String::with_capacity(n + 1);
        s.push('+');
        for (i, c) in self.digits.chars().enumerate() {
            s.push(if i < cc || i + 3 >= n { c } else { '*' });
        }
        s
    }

    /// The country calling code, e.g. `44`.
    pub fn country_code(&self) -> &str {
        self.digits
            .get(..usize::from(self.cc_len))
            .unwrap_or_default()
    }

    /// All digits without `+`, e.g. `447700900123`. Unmasked: for matching
    /// only, never for output.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The national significant number (the digits after the country code).
    pub(crate) fn national(&self) -> &str {
        self.digits
            .get(usize::from(self.cc_len)..)
            .unwrap_or_default()
    }
}

/// Finds the country code at the start of `digits`: `(code length, min NSN
/// length, max NSN length)`.
fn country_of(digits: &[u8]) -> Option<(usize, u8, u8)> {
    let mut code: u16 = 0;
    for (i, &d) in digits.iter().take(3).enumerate() {
        code = code * 10 + u16::from(d.wrapping_sub(b'0'));
        if let Ok(at) = COUNTRIES.binary_search_by_key(&code, |&(c, _, _)| c) {
            let &(_, min, max) = COUNTRIES.get(at)?;
            return Some((i + 1, min, max));
        }
    }
    None
}

/// True when `s` is `a.b.c.d` with four decimal groups of 1–3 digits, each at
/// most 255: an IPv4 address, not a dotted phone number.
fn looks_like_ipv4(s: &str) -> bool {
    let mut groups = 0;
    for part in s.split('.') {
        groups += 1;
        let ok = !part.is_empty()
            && part.len() <= 3
            && part.bytes().all(|b| b.is_ascii_digit())
            && part.parse::<u16>().is_ok_and(|v| v <= 255);
        if !ok {
            return false;
        }
    }
    groups == 4
}

/// Strips a `tel:`, `sip:` or `sips:` scheme (any case) with its parameters
/// (`;…`) and, for SIP, the host part (`@…`).
fn strip_uri(s: &str) -> &str {
    for scheme in ["tel:", "sip:", "sips:"] {
        let has = s
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme));
        if let (true, Some(rest)) = (has, s.get(scheme.len()..)) {
            let end = rest.find([';', '@', '?']).unwrap_or(rest.len());
            return rest.get(..end).unwrap_or_default().trim();
        }
    }
    s
}

/// Parses a header value holding an international number.
///
/// Accepted forms: bare digits with the country code (`447700900123`, O2's
/// form), `+447700900123`, `00447700900123`, `tel:+44-7700-900123` (the
/// `tel:`/`sip:` scheme and `;params` are stripped), with spaces, dashes,
/// dots and parentheses anywhere, and a `(0)` trunk-prefix insertion
/// (`+44 (0)7700 900123`). Returns `None` unless the digits form a plausible
/// E.164 number: known country code, national number length in the country's
/// range (for +1, area code and exchange starting with 2–9), at most 15
/// digits, no letters or other characters, no placeholder (national number all
/// one digit) and no dotted-quad IPv4 address.
pub fn parse_international(value: &str) -> Option<PhoneNumber> {
    let s = strip_uri(value.trim());
    let has_plus = s.starts_with('+');
    if !has_plus && looks_like_ipv4(s) {
        return None;
    }
    let body = if has_plus { s.get(1..)? } else { s };
    let bytes = body.as_bytes();

    let mut buf = [0u8; MAX_COLLECT];
    let mut n = 0usize;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => {
                *buf.get_mut(n)? = b;
                n += 1;
            }
            // "(0)" after some digits: the national trunk prefix, not part of
            // the international number.
            b'(' if n > 0 && bytes.get(i + 1) == Some(&b'0') && bytes.get(i + 2) == Some(&b')') => {
                i += 3;
                continue;
            }
            b' ' | b'\t' | b'-' | b'.' | b'(' | b')' => {}
            _ => return None,
        }
        i += 1;
    }
    let collected = buf.get(..n)?;
    let digits = if has_plus {
        collected
    } else if let Some(rest) = collected.strip_prefix(b"00") {
        rest
    } else {
        collected
    };
    if digits.first().is_none_or(|&d| d == b'0') || digits.len() > MAX_E164_DIGITS {
        return None;
    }
    let (cc_len, min, max) = country_of(digits)?;
    let nsn = digits.get(cc_len..)?;
    if nsn.len() < usize::from(min) || nsn.len() > usize::from(max) {
        return None;
    }
    // Placeholders: 99999999999, 19999999999, +44 0000000000 ...
    if nsn.windows(2).all(|w| w.first() == w.last()) {
        return None;
    }
    // NANP: NXX-NXX-XXXX, area code and exchange start with 2-9.
    if cc_len == 1
        && digits.first() == Some(&b'1')
        && !(matches!(nsn.first(), Some(b'2'..=b'9')) && matches!(nsn.get(3), Some(b'2'..=b'9')))
    {
        return None;
    }
    let digits = std::str::from_utf8(digits).ok()?.to_owned();
    Some(PhoneNumber {
        digits,
        cc_len: u8::try_from(cc_len).ok()?,
    })
}

/// Characters that may sit between the digits of a written number.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\t' | '-' | '.' | '(' | ')')
}

/// Tries to match `pattern` (ASCII digits) in `chars` starting at `start`,
/// skipping separators between digits. With `international`, a leading `00`
/// and a `(0)` trunk insertion right after the first `cc_len` digits are
/// allowed. Returns the end position and the positions of the matched
/// pattern digits.
fn match_at(
    chars: &[char],
    start: usize,
    pattern: &[u8],
    international: Option<usize>,
) -> Option<(usize, Vec<usize>)> {
    let mut pos = start;
    if international.is_some()
        && chars.get(pos) == Some(&'0')
        && chars.get(pos + 1) == Some(&'0')
        && pattern.first().is_some_and(|&d| d != b'0')
    {
        pos += 2;
    }
    // Cheap first-digit check before allocating.
    if chars.get(pos).copied() != pattern.first().map(|&d| char::from(d)) {
        return None;
    }
    let mut positions = Vec::with_capacity(pattern.len());
    while let Some(&want) = pattern.get(positions.len()) {
        let c = *chars.get(pos)?;
        if c.is_ascii_digit() {
            if c == char::from(want) {
                positions.push(pos);
            } else if c == '0'
                && international == Some(positions.len())
                && pos.checked_sub(1).and_then(|p| chars.get(p)) == Some(&'(')
                && chars.get(pos + 1) == Some(&')')
            {
                // The "(0)" in "+44 (0)7700 900123": not part of the number.
            } else {
                return None;
            }
        } else if positions.is_empty() || !is_separator(c) {
            return None;
        }
        pos += 1;
    }
    Some((pos, positions))
}

/// Masks every occurrence of `number` in `value` (see [`super::mask_value`]).
/// Returns `None` when the number does not occur in the value.
pub(crate) fn mask_number_in(value: &str, number: &PhoneNumber) -> Option<String> {
    let chars: Vec<char> = value.chars().collect();
    let mut out = chars.clone();
    let full = number.digits().as_bytes();
    let national = number.national().as_bytes();
    let cc_len = usize::from(number.cc_len);
    let mut found = false;
    let mut i = 0;
    while i < chars.len() {
        if chars.get(i).is_some_and(char::is_ascii_digit) {
            // The number as written with its country code, then (to be safe)
            // any national-form repetition of it.
            let hit = match_at(&chars, i, full, Some(cc_len))
                .map(|(end, pos)| (end, pos, cc_len, full.len()))
                .or_else(|| {
                    match_at(&chars, i, national, None)
                        .map(|(end, pos)| (end, pos, 0, national.len()))
                });
            if let Some((end, positions, keep_front, len)) = hit {
                for (k, p) in positions.into_iter().enumerate() {
                    if k >= keep_front
                        && k + 3 < len
                        && let Some(slot) = out.get_mut(p)
                    {
                        *slot = '*';
                    }
                }
                found = true;
                i = end.max(i + 1);
                continue;
            }
        }
        i += 1;
    }
    found.then(|| out.into_iter().collect())
}

/// Masks an opaque value: every character except the last three becomes `*`;
/// values of three or fewer characters become all `*`. Length (in chars) is
/// kept.
pub(crate) fn mask_opaque(value: &str) -> String {
    let n = value.chars().count();
    if n <= 3 {
        return "*".repeat(n);
    }
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i + 3 >= n { c } else { '*' })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn e164(v: &str) -> Option<String> {
        parse_international(v).map(|n| n.e164())
    }

    #[test]
    fn table_is_sorted_prefix_free_and_sane() {
        for w in COUNTRIES.windows(2) {
            assert!(w[0].0 < w[1].0, "not sorted at {}", w[1].0);
        }
        for &(code, min, max) in COUNTRIES {
            assert!((1..=999).contains(&code));
            assert!(min >= 4 && min <= max, "{code}");
            let cc_len = code.to_string().len();
            assert!(cc_len + usize::from(max) <= MAX_E164_DIGITS, "{code}");
            // No shorter code is a prefix of this one.
            let s = code.to_string();
            for &(other, _, _) in COUNTRIES {
                let o = other.to_string();
                assert!(o == s || !s.starts_with(&o), "{o} is a prefix of {s}");
            }
        }
        assert!(COUNTRIES.len() > 200, "{}", COUNTRIES.len());
    }

    #[test]
    fn o2_form_and_accessors() {
        let n = parse_international("447700900123").unwrap();
        assert_eq!(n.e164(), "+447700900123");
        assert_eq!(n.digits(), "447700900123");
        assert_eq!(n.country_code(), "44");
        assert_eq!(n.national(), "7700900123");
        assert_eq!(n.masked(), "+44*******123");
        assert_eq!(format!("{n:?}"), "PhoneNumber(\"+44*******123\")");
    }

    #[test]
    fn accepted_forms() {
        let want = Some("+447700900123".to_string());
        for v in [
            "447700900123",
            "+447700900123",
            "00447700900123",
            "tel:+44-7700-900123",
            "TEL:+44-7700-900123;phone-context=example.com",
            "sip:+447700900123@ims.example.net;user=phone",
            "+44 7700 900123",
            "+44 (0)7700 900123",
            "+44(0)7700900123",
            "0044 (0) 7700 900 123",
            "+44.7700.900.123",
            "  447700900123\t",
        ] {
            assert_eq!(e164(v), want, "{v:?}");
        }
    }

    #[test]
    fn many_countries() {
        for (v, cc) in [
            ("12025550123", "1"),       // US, drama range
            ("+1 (212) 555-0199", "1"), // US
            ("+1 416 555 0123", "1"),   // CA
            ("79161234567", "7"),       // RU
            ("77011234567", "7"),       // KZ
            ("201001234567", "20"),     // EG mobile
            ("27821234567", "27"),      // ZA
            ("306912345678", "30"),     // GR
            ("31612345678", "31"),      // NL
            ("32470123456", "32"),      // BE
            ("33612345678", "33"),      // FR
            ("34612345678", "34"),      // ES
            ("36201234567", "36"),      // HU
            ("393123456789", "39"),     // IT
            ("40721234567", "40"),      // RO
            ("41781234567", "41"),      // CH
            ("436641234567", "43"),     // AT
            ("4520123456", "45"),       // DK
            ("46701234567", "46"),      // SE
            ("4791234567", "47"),       // NO
            ("48512345678", "48"),      // PL
            ("4915123456789", "49"),    // DE mobile
            ("493012345", "49"),        // DE short fixed
            ("51912345678", "51"),      // PE
            ("5215512345678", "52"),    // MX old mobile
            ("525512345678", "52"),     // MX
            ("5491123456789", "54"),    // AR mobile
            ("5511912345678", "55"),    // BR
            ("56912345678", "56"),      // CL
            ("573001234567", "57"),     // CO
            ("5712345678", "57"),       // CO 8-digit
            ("584121234567", "58"),     // VE
            ("60123456789", "60"),      // MY
            ("61412345678", "61"),      // AU
            ("6281234567890", "62"),    // ID
            ("639171234567", "63"),     // PH
            ("6421234567", "64"),       // NZ
            ("6581234567", "65"),       // SG
            ("66812345678", "66"),      // TH
            ("819012345678", "81"),     // JP
            ("821012345678", "82"),     // KR
            ("84912345678", "84"),      // VN
            ("8613802423312", "86"),    // CN (Adobe example)
            ("905321234567", "90"),     // TR
            ("919835140859", "91"),     // IN (Reliance example)
            ("923001234567", "92"),     // PK
            ("94771234567", "94"),      // LK
            ("989121234567", "98"),     // IR
            ("212612345678", "212"),    // MA
            ("2348031234567", "234"),   // NG
            ("233244123456", "233"),    // GH
            ("254712345678", "254"),    // KE
            ("255713123301", "255"),    // TZ (code comment example)
            ("256712345678", "256"),    // UG
            ("351912345678", "351"),    // PT
            ("353871234567", "353"),    // IE
            ("358401234567", "358"),    // FI
            ("380501234567", "380"),    // UA
            ("420601123456", "420"),    // CZ
            ("50212345678", "502"),     // GT
            ("595961714786", "595"),    // PY (Adobe x-hts-clid example)
            ("59899123456", "598"),     // UY
            ("85291234567", "852"),     // HK
            ("8801712345678", "880"),   // BD
            ("886912345678", "886"),    // TW
            ("966501234567", "966"),    // SA
            ("971501234567", "971"),    // AE
            ("972501234567", "972"),    // IL
            ("998901234567", "998"),    // UZ
            ("29012345", "290"),        // SH, short
        ] {
            let n = parse_international(v).unwrap_or_else(|| panic!("{v} rejected"));
            assert_eq!(n.country_code(), cc, "{v}");
        }
    }

    #[test]
    fn rejects() {
        for v in [
            "",
            "+",
            "00",
            "07700900123",   // national, trunk 0
            "7700900123",    // UK national without trunk 0: reads as +7 with a 9-digit NSN
            "8032618185",    // US national without CC (80 is unassigned)
            "4477009001234", // UK: 11-digit NSN
            "44770090",      // UK: too short
            "1202555012",    // NANP too short
            "120255501234",  // NANP too long
            "11025550123",   // NANP area code starting with 1
            "12021550123",   // NANP exchange starting with 1
            "10025550123",   // NANP area code starting with 0
            "99999999999",   // placeholder (999 unassigned anyway)
            "19999999999",   // placeholder
            "447777777777",  // NSN all one digit
            "00000000000",
            "+0447700900123",
            "0000447700900123",
            "4477009001234567", // > 15 digits
            "+1234567890123456789012345",
            "447726900XXX", // O2 value redacted: letters
            "447700900123abc",
            "abc447700900123",
            "44-7700-900123x",
            "+44 7700 900123, 10.1.2.3", // comma is not part of a number
            "+44+7700900123",
            "62.12.143.155", // IPv4, would be +62 12143155
            "10.1.2.3",
            "T_ILL_CHI_1311234567000101234567",
            "dmwdovap66bFrvw=",
            "4477009001２3", // non-ASCII digit
            "☎447700900123",
            "\u{FFFD}447700900123",
            "800123456789", // international freephone: left out
            "tel:",
            "sip:@host",
            "(0)447700900123",
        ] {
            assert_eq!(e164(v), None, "{v:?}");
        }
    }

    #[test]
    fn placeholder_and_ip_edge_cases() {
        // A dotted number with a + is not an IP.
        assert!(parse_international("+62.12.143.155").is_some());
        // Dotted groups above 255 are not an IP.
        assert!(parse_international("447.700.900.123").is_some());
        // Two different digits are not a placeholder.
        assert!(parse_international("447777777778").is_some());
    }

    #[test]
    fn masked_never_shows_more_than_cc_and_last_three() {
        for v in [
            "12025550123",
            "8613802423312",
            "29012345",
            "4915123456789",
            "255713123301",
        ] {
            let n = parse_international(v).unwrap();
            let m = n.masked();
            let cc = n.country_code();
            assert!(m.starts_with(&format!("+{cc}")));
            assert_eq!(m.len(), n.digits().len() + 1);
            let shown: usize = m.chars().filter(char::is_ascii_digit).count();
            assert_eq!(shown, cc.len() + 3, "{m}");
            assert!(m.ends_with(&v[v.len() - 3..]));
        }
        assert_eq!(
            parse_international("12025550123").unwrap().masked(),
            "+1*******123"
        );
        assert_eq!(
            parse_international("255713123301").unwrap().masked(),
            "+255******301"
        );
    }

    #[test]
    fn mask_opaque_rules() {
        assert_eq!(mask_opaque(""), "");
        assert_eq!(mask_opaque("a"), "*");
        assert_eq!(mask_opaque("abc"), "***");
        assert_eq!(mask_opaque("abcd"), "*bcd");
        assert_eq!(mask_opaque("héllo\u{FFFD}"), "***lo\u{FFFD}");
    }
}
