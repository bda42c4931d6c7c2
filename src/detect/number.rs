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

/// The shortest national significant number of any country in the table
/// (checked by a test): no number, national or international, has fewer
/// digits.
pub(crate) const MIN_NSN: usize = 4;

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

/// Finds the country code at the start of `digits`: `(code, code length, min
/// NSN length, max NSN length)`.
fn country_of(digits: &[u8]) -> Option<(u16, usize, u8, u8)> {
    let mut code: u16 = 0;
    for (i, &d) in digits.iter().take(3).enumerate() {
        code = code * 10 + u16::from(d.wrapping_sub(b'0'));
        if let Ok(at) = COUNTRIES.binary_search_by_key(&code, |&(c, _, _)| c) {
            let &(_, min, max) = COUNTRIES.get(at)?;
            return Some((code, i + 1, min, max));
        }
    }
    None
}

/// `(NSN prefix, min length, max length)`.
type LeadingRule = (&'static str, u8, u8);

/// Leading-digit rules for the countries where they matter for false alarms:
/// the one-digit codes (+1, +7), which would otherwise swallow many digit
/// strings, and the countries most often met (+33, +44, +49, +86).
/// `(code, [(NSN prefix, min length, max length)])`: the first entry whose
/// prefix starts the NSN decides; an NSN matching no entry is rejected.
#[rustfmt::skip]
static LEADING: &[(u16, &[LeadingRule])] = &[
    // NANP is checked by its own NXX-NXX rule (see `plausible_nsn`).
    // RU: 3xx/4xx/8xx geographic, 9xx mobile; KZ: 6xx, 7xx.
    (7, &[("3", 10, 10), ("4", 10, 10), ("6", 10, 10), ("7", 10, 10), ("8", 10, 10), ("9", 10, 10)]),
    // FR: 1-5 geographic, 6/7 mobile, 8 special, 9 VoIP; never 0.
    (33, &[("1", 9, 9), ("2", 9, 9), ("3", 9, 9), ("4", 9, 9), ("5", 9, 9), ("6", 9, 9), ("7", 9, 9), ("8", 9, 9), ("9", 9, 9)]),
    // GB: 1/2 geographic, 3 non-geographic, 5 corporate/VoIP, 7 mobile, 8 freephone, 9 premium; 4 and 6 unused.
    (44, &[("1", 9, 10), ("2", 10, 10), ("3", 10, 10), ("5", 10, 10), ("7", 10, 10), ("8", 9, 10), ("9", 10, 10)]),
    // DE: 15x/16x/17x mobile (10-11 digits), other 1x services, 2-9 geographic.
    (49, &[("15", 10, 11), ("16", 10, 11), ("17", 10, 11), ("1", 6, 13), ("2", 6, 12), ("3", 6, 12), ("4", 6, 12),
           ("5", 6, 12), ("6", 6, 12), ("7", 6, 12), ("8", 6, 12), ("9", 6, 12)]),
    // CN: 13x-19x mobile (11 digits), 10 Beijing, 2x two-digit areas, 3-9 three-digit areas.
    (86, &[("10", 10, 10), ("13", 11, 11), ("14", 11, 11), ("15", 11, 11), ("16", 11, 11), ("17", 11, 11),
           ("18", 11, 11), ("19", 11, 11), ("2", 10, 10), ("3", 10, 11), ("4", 10, 11), ("5", 10, 11),
           ("6", 10, 11), ("7", 10, 11), ("8", 10, 11), ("9", 10, 11)]),
];

/// Country codes whose national significant numbers may start with `0`
/// (Italian fixed lines, the 10-digit plans of Côte d'Ivoire, Benin and
/// Congo). Everywhere else a `0` after the country code is a trunk prefix
/// written by mistake or no number at all.
const NSN_MAY_START_WITH_0: [u16; 4] = [39, 225, 229, 242];

/// True when `nsn` has a plausible shape for country `code` with the length
/// range `min..=max`: length, leading digits, NANP's NXX-NXX rule.
fn plausible_nsn(code: u16, nsn: &[u8], min: u8, max: u8) -> bool {
    let len = nsn.len();
    if len < usize::from(min) || len > usize::from(max) {
        return false;
    }
    if nsn.first() == Some(&b'0') && !NSN_MAY_START_WITH_0.contains(&code) {
        return false;
    }
    if code == 1 {
        // NANP: NXX-NXX-XXXX, area code and exchange start with 2-9.
        return matches!(nsn.first(), Some(b'2'..=b'9')) && matches!(nsn.get(3), Some(b'2'..=b'9'));
    }
    let Some((_, rules)) = LEADING.iter().find(|(c, _)| *c == code) else {
        return true;
    };
    rules
        .iter()
        .find(|(prefix, _, _)| nsn.starts_with(prefix.as_bytes()))
        .is_some_and(|&(_, lo, hi)| (usize::from(lo)..=usize::from(hi)).contains(&len))
}

/// Known placeholders: every digit the same (`99999999999`, `00000000`), a
/// national number all one digit (`19999999999`), or a run of seven or
/// more consecutive digits up or down (`0123456789`, `123456789`,
/// `9876543210`).
pub fn is_placeholder(digits: &[u8]) -> bool {
    let same = |d: &[u8]| d.windows(2).all(|w| w.first() == w.last());
    let step = |d: &[u8], up: bool| {
        d.windows(2).all(|w| match (w.first(), w.last()) {
            (Some(&a), Some(&b)) if up => b == a + 1,
            (Some(&a), Some(&b)) => a == b + 1,
            _ => false,
        })
    };
    let long_run = digits.len() >= 7;
    // `1234567890`: up to 9, then a 0.
    let up_then_zero = digits.ends_with(b"90")
        && digits
            .get(..digits.len() - 1)
            .is_some_and(|d| step(d, true));
    same(digits)
        || (long_run && (step(digits, true) || step(digits, false) || up_then_zero))
        || digits
            .get(1..)
            .is_some_and(|rest| rest.len() >= 6 && same(rest))
}

/// Checks `digits` (country code and NSN, no prefix) as an E.164 number.
fn validate(digits: &[u8]) -> Option<PhoneNumber> {
    if digits.first().is_none_or(|&d| d == b'0') || digits.len() > MAX_E164_DIGITS {
        return None;
    }
    let (code, cc_len, min, max) = country_of(digits)?;
    let nsn = digits.get(cc_len..)?;
    if !plausible_nsn(code, nsn, min, max) || is_placeholder(nsn) || is_placeholder(digits) {
        return None;
    }
    Some(PhoneNumber {
        digits: std::str::from_utf8(digits).ok()?.to_owned(),
        cc_len: u8::try_from(cc_len).ok()?,
    })
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
/// (`;…`) and, for SIP, the host part (`@…`). Returns the rest and whether a
/// scheme was there.
fn strip_uri(s: &str) -> (&str, bool) {
    for scheme in ["tel:", "sip:", "sips:"] {
        let has = s
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme));
        if let (true, Some(rest)) = (has, s.get(scheme.len()..)) {
            let end = rest.find([';', '@', '?']).unwrap_or(rest.len());
            return (rest.get(..end).unwrap_or_default().trim(), true);
        }
    }
    (s, false)
}

/// How a number was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Form {
    /// `+447700900123` (spaces and dashes allowed).
    #[serde(rename = "e164")]
    Plus,
    /// Bare international digits, `447700900123` (O2's form).
    #[serde(rename = "international")]
    International,
    /// `00447700900123`.
    #[serde(rename = "00")]
    DoubleZero,
    /// `tel:+44-7700-900123` or `sip:+447700900123@host`.
    #[serde(rename = "tel")]
    Tel,
    /// National, with the region's trunk prefix (`07700 900123`).
    #[serde(rename = "national")]
    National,
    /// A `0` in front of the international digits (`0447700900123`), as some
    /// gateways write it.
    #[serde(rename = "0-international")]
    ZeroInternational,
}

impl Form {
    /// The form as written in output: `e164`, `international`, `00`, `tel`,
    /// `national`, `0-international`.
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Plus => "e164",
            Form::International => "international",
            Form::DoubleZero => "00",
            Form::Tel => "tel",
            Form::National => "national",
            Form::ZeroInternational => "0-international",
        }
    }

    /// True for the forms that say "international number" by themselves
    /// (`+`, `00`, `tel:`): enough evidence outside catalogued names.
    pub fn is_marked(self) -> bool {
        matches!(self, Form::Plus | Form::DoubleZero | Form::Tel)
    }
}

/// A region for national numbers: ISO 3166 code, country calling code and
/// the trunk prefix dialled before national numbers (`0` in most countries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// ISO 3166-1 alpha-2 code, upper case.
    pub code: &'static str,
    /// Country calling code.
    pub cc: u16,
    /// Trunk prefix, empty where national numbers are dialled without one.
    pub trunk: &'static str,
}

/// The regions `--region` accepts. Trunk prefixes after ITU-T E.164
/// national numbering plans.
#[rustfmt::skip]
static REGIONS: &[(&str, u16, &str)] = &[
    ("AE", 971, "0"), ("AR", 54, "0"), ("AT", 43, "0"), ("AU", 61, "0"), ("BD", 880, "0"),
    ("BE", 32, "0"), ("BG", 359, "0"), ("BR", 55, "0"), ("CA", 1, "1"), ("CH", 41, "0"),
    ("CL", 56, ""), ("CN", 86, "0"), ("CO", 57, ""), ("CZ", 420, ""), ("DE", 49, "0"),
    ("DK", 45, ""), ("EG", 20, "0"), ("ES", 34, ""), ("FI", 358, "0"), ("FR", 33, "0"),
    ("GB", 44, "0"), ("GH", 233, "0"), ("GR", 30, ""), ("HK", 852, ""), ("HU", 36, "06"),
    ("ID", 62, "0"), ("IE", 353, "0"), ("IL", 972, "0"), ("IN", 91, "0"), ("IT", 39, ""),
    ("JP", 81, "0"), ("KE", 254, "0"), ("KR", 82, "0"), ("MA", 212, "0"), ("MX", 52, ""),
    ("MY", 60, "0"), ("NG", 234, "0"), ("NL", 31, "0"), ("NO", 47, ""), ("NZ", 64, "0"),
    ("PE", 51, "0"), ("PH", 63, "0"), ("PK", 92, "0"), ("PL", 48, ""), ("PT", 351, ""),
    ("PY", 595, "0"), ("RO", 40, "0"), ("RU", 7, "8"), ("SA", 966, "0"), ("SE", 46, "0"),
    ("SG", 65, ""), ("TH", 66, "0"), ("TR", 90, "0"), ("TW", 886, "0"), ("TZ", 255, "0"),
    ("UA", 380, "0"), ("UG", 256, "0"), ("US", 1, "1"), ("VN", 84, "0"), ("ZA", 27, "0"),
];

impl Region {
    /// Looks a region up by its ISO 3166-1 alpha-2 code (any case): `GB`,
    /// `us`. `UK` is accepted for `GB`.
    pub fn parse(code: &str) -> Option<Region> {
        let code = if code.eq_ignore_ascii_case("UK") {
            "GB"
        } else {
            code
        };
        REGIONS
            .iter()
            .find(|(c, _, _)| c.eq_ignore_ascii_case(code))
            .map(|&(code, cc, trunk)| Region { code, cc, trunk })
    }

    /// Every region code `--region` accepts.
    pub fn codes() -> impl Iterator<Item = &'static str> {
        REGIONS.iter().map(|(c, _, _)| *c)
    }

    /// The E.164 number of a national number's digits, if it is plausible
    /// in this region. The trunk prefix is required where there is one,
    /// except NANP's optional `1`.
    fn national(&self, digits: &[u8]) -> Option<PhoneNumber> {
        let nsn = match (self.trunk, digits.strip_prefix(self.trunk.as_bytes())) {
            ("", _) => digits,
            (_, Some(nsn)) => nsn,
            ("1", None) => digits,
            _ => return None,
        };
        let cc = self.cc.to_string();
        let mut all = [0u8; MAX_COLLECT + 3];
        let n = cc.len() + nsn.len();
        let slot = all.get_mut(..n)?;
        let (head, tail) = slot.split_at_mut(cc.len());
        head.copy_from_slice(cc.as_bytes());
        tail.copy_from_slice(nsn);
        let number = validate(slot)?;
        (number.country_code() == cc).then_some(number)
    }
}

/// The trunk prefix dialled before national numbers in the country of
/// calling code `cc` (`0` where not listed otherwise).
pub(crate) fn trunk_prefix(cc: &str) -> &'static str {
    let code: u16 = cc.parse().unwrap_or(0);
    REGIONS
        .iter()
        .find(|(_, c, _)| *c == code)
        .map_or("0", |&(_, _, t)| t)
}

/// A value read as a phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The number, when it could be placed in a country; `None` for a
    /// national-only number with no region to place it.
    pub number: Option<PhoneNumber>,
    /// How it was written.
    pub form: Form,
}

/// The digits of a value and what stood before them.
struct Collected {
    buf: [u8; MAX_COLLECT],
    n: usize,
    plus: bool,
    scheme: bool,
}

impl Collected {
    fn digits(&self) -> &[u8] {
        self.buf.get(..self.n).unwrap_or_default()
    }
}

/// Collects the digits of a value written as one number: optional scheme,
/// optional `+`, digits with spaces, dashes, dots and parentheses, a `(0)`
/// trunk insertion after the country code. `None` for anything else.
fn collect(value: &str) -> Option<Collected> {
    let (s, scheme) = strip_uri(value.trim());
    let plus = s.starts_with('+');
    if !plus && looks_like_ipv4(s) {
        return None;
    }
    let body = if plus { s.get(1..)? } else { s };
    let bytes = body.as_bytes();
    let mut c = Collected {
        buf: [0u8; MAX_COLLECT],
        n: 0,
        plus,
        scheme,
    };
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => {
                *c.buf.get_mut(c.n)? = b;
                c.n += 1;
            }
            // "(0)" after some digits: the national trunk prefix, not part of
            // the international number.
            b'(' if c.n > 0
                && bytes.get(i + 1) == Some(&b'0')
                && bytes.get(i + 2) == Some(&b')') =>
            {
                i += 3;
                continue;
            }
            b' ' | b'\t' | b'-' | b'.' | b'(' | b')' => {}
            _ => return None,
        }
        i += 1;
    }
    (c.n > 0).then_some(c)
}

/// Shortest and longest digit strings taken for a national-only number when
/// no region places it.
const NATIONAL_ONLY_DIGITS: std::ops::RangeInclusive<usize> = 7..=12;

/// Reads a value written as one phone number, in any form: `+44…`, `00 44…`,
/// `tel:`/`sip:`, bare international digits, national digits (placed with
/// `region` when given, else returned with `number: None`), or the
/// international digits after a `0` (`0447700900123`).
///
/// Order of interpretation for digits without `+`/`00`: with a region, a
/// valid national number of that region (with its trunk prefix where it has
/// one; NANP's `1` is optional); then bare international digits; then the
/// gateway form, a single `0` before valid international digits; without a
/// region, anything else of 7–12 digits is national-only.
/// Placeholders are never numbers.
pub fn parse(value: &str, region: Option<Region>) -> Option<Parsed> {
    let c = collect(value)?;
    let digits = c.digits();
    let found = |number, form| Some(Parsed { number, form });
    if c.plus {
        let form = if c.scheme { Form::Tel } else { Form::Plus };
        return validate(digits).and_then(|n| found(Some(n), form));
    }
    if let Some(rest) = digits.strip_prefix(b"00") {
        let form = if c.scheme {
            Form::Tel
        } else {
            Form::DoubleZero
        };
        return validate(rest).and_then(|n| found(Some(n), form));
    }
    if c.scheme {
        return validate(digits).and_then(|n| found(Some(n), Form::Tel));
    }
    if let Some(n) = region.and_then(|r| r.national(digits)) {
        return found(Some(n), Form::National);
    }
    if let Some(n) = validate(digits) {
        return found(Some(n), Form::International);
    }
    if let Some(rest) = digits.strip_prefix(b"0")
        && let Some(n) = validate(rest)
    {
        return found(Some(n), Form::ZeroInternational);
    }
    (region.is_none() && NATIONAL_ONLY_DIGITS.contains(&digits.len()) && !is_placeholder(digits))
        .then_some(Parsed {
            number: None,
            form: Form::National,
        })
}

/// Parses a header value holding an international number.
///
/// Accepted forms: bare digits with the country code (`447700900123`, O2's
/// form), `+447700900123`, `00447700900123`, `tel:+44-7700-900123` (the
/// `tel:`/`sip:` scheme and `;params` are stripped), with spaces, dashes,
/// dots and parentheses anywhere, and a `(0)` trunk-prefix insertion
/// (`+44 (0)7700 900123`). Returns `None` unless the digits form a plausible
/// E.164 number: known country code, national number length in the country's
/// range and leading digits allowed there (for +1, area code and exchange
/// starting with 2–9), at most 15 digits, no letters or other characters, no
/// placeholder and no dotted-quad IPv4 address.
pub fn parse_international(value: &str) -> Option<PhoneNumber> {
    let c = collect(value)?;
    let digits = c.digits();
    let digits = if c.plus {
        digits
    } else {
        digits.strip_prefix(b"00").unwrap_or(digits)
    };
    validate(digits)
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

/// Masks the digits of a written number: every ASCII digit except the
/// first `keep_front` and the last three becomes `*`; percent-escapes
/// (`%2B`, `%20`) and every other character are kept.
pub(crate) fn mask_digits(text: &str, keep_front: usize) -> String {
    let bytes = text.as_bytes();
    let is_escape = |i: usize| {
        bytes.get(i) == Some(&b'%')
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    };
    let mut total = 0usize;
    let mut i = 0usize;
    while let Some(b) = bytes.get(i) {
        if is_escape(i) {
            i += 3;
            continue;
        }
        total += usize::from(b.is_ascii_digit());
        i += 1;
    }
    let mut out = String::with_capacity(text.len());
    let mut seen = 0usize;
    let mut skip = 0usize;
    for (i, c) in text.char_indices() {
        if skip > 0 {
            skip -= 1;
            out.push(c);
            continue;
        }
        if is_escape(i) {
            skip = 2;
            out.push(c);
            continue;
        }
        if c.is_ascii_digit() {
            let hide = seen >= keep_front && seen + 3 < total;
            seen += 1;
            out.push(if hide { '*' } else { c });
        } else {
            out.push(c);
        }
    }
    out
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

    #[test]
    fn min_nsn_is_the_shortest_in_the_table() {
        let min = COUNTRIES.iter().map(|&(_, lo, _)| usize::from(lo)).min();
        assert_eq!(min, Some(MIN_NSN));
    }

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
            ("5716012345", "57"),       // CO 8-digit
            ("584121234567", "58"),     // VE
            ("60123456788", "60"),      // MY
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
            ("50222345678", "502"),     // GT
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
    fn forms_and_regions() {
        let gb = Region::parse("gb");
        let us = Region::parse("US");
        let p =
            |v: &str, r: Option<Region>| parse(v, r).map(|p| (p.number.map(|n| n.e164()), p.form));
        let uk = Some("+447700900123".to_string());
        assert_eq!(p("07700 900123", gb), Some((uk.clone(), Form::National)));
        assert_eq!(p("07700 900123", None), Some((None, Form::National)));
        assert_eq!(
            p("0447700900123", None),
            Some((uk.clone(), Form::ZeroInternational))
        );
        assert_eq!(
            p("0447700900123", gb),
            Some((uk.clone(), Form::ZeroInternational))
        );
        assert_eq!(
            p("447700900123", gb),
            Some((uk.clone(), Form::International))
        );
        assert_eq!(p("+44 7700 900123", gb), Some((uk.clone(), Form::Plus)));
        assert_eq!(
            p("00447700900123", None),
            Some((uk.clone(), Form::DoubleZero))
        );
        assert_eq!(
            p("tel:+44-7700-900123", None),
            Some((uk.clone(), Form::Tel))
        );
        let us_n = Some("+12025550143".to_string());
        assert_eq!(p("2025550143", us), Some((us_n.clone(), Form::National)));
        assert_eq!(
            p("1 202 555 0143", us),
            Some((us_n.clone(), Form::National))
        );
        assert_eq!(p("12025550143", None), Some((us_n, Form::International)));
        // A trunk prefix is required where the region has one.
        assert_eq!(p("7700900123", gb), None);
        assert_eq!(
            p("8 916 123 45 67", Region::parse("RU"))
                .unwrap()
                .0
                .as_deref(),
            Some("+79161234567")
        );
        assert_eq!(
            p("06 20 123 4567", Region::parse("hu"))
                .unwrap()
                .0
                .as_deref(),
            Some("+36201234567")
        );
        // National-only needs 7-12 digits and no placeholder.
        assert_eq!(p("123456", None), None);
        assert_eq!(p("0123456789", None), None);
        assert_eq!(p("99999999999", None), None);
        assert_eq!(Region::parse("UK"), gb);
        assert_eq!(Region::parse("XX"), None);
        assert!(Region::codes().count() >= 50);
        for code in Region::codes() {
            let r = Region::parse(code).unwrap();
            assert!(COUNTRIES.iter().any(|c| c.0 == r.cc), "{code}");
        }
    }

    #[test]
    fn leading_digit_rules() {
        for v in [
            "+44 4700 900123", // GB: 4 unused
            "+44 6700 900123", // GB: 6 unused
            "+44 770 090 012", // GB mobile: 10 digits
            "+33 012345678",   // FR: never 0
            "+7 1234567890",   // RU/KZ: no 1 or 2
            "+49 0301234567",  // DE: no 0
            "+49 151234567",   // DE mobile: 10-11 digits
            "+86 1212345678",  // CN: 12x is no range
            "+86 1381234567",  // CN mobile: 11 digits
        ] {
            assert_eq!(e164(v), None, "{v}");
        }
        for v in [
            "+44 20 7946 0018",
            "+49 30 1234567",
            "+86 10 1234 5678",
            "+39 06 1234 5678",
        ] {
            assert!(e164(v).is_some(), "{v}");
        }
    }

    #[test]
    fn placeholders() {
        for d in [
            "99999999999",
            "0000000",
            "0123456789",
            "1234567890",
            "9876543210",
            "19999999999",
        ] {
            assert!(is_placeholder(d.as_bytes()), "{d}");
        }
        for d in ["447700900123", "12345", "1234568", "12025550143"] {
            assert!(!is_placeholder(d.as_bytes()), "{d}");
        }
    }

    #[test]
    fn mask_digits_keeps_escapes() {
        assert_eq!(
            mask_digits("%2B44%207700%20900123", 2),
            "%2B44%20****%20***123"
        );
        assert_eq!(mask_digits("07700900123", 0), "********123");
        assert_eq!(mask_digits("12", 0), "12");
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
