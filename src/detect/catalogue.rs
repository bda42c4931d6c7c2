//! The catalogue of header names that operators and gateways use to inject a
//! phone number (MSISDN/MDN) or another subscriber identifier into HTTP
//! requests, with the evidence for each name.
//!
//! Compiled from `shared/research/msisdn-headers.md` (§3, tiers from §7);
//! `docs/headers.md` is the human-readable copy with source URLs. The list can
//! never be complete: gateways (Cisco StarOS, Nokia SR, F5, Fortinet) let the
//! operator choose any header name, so uncatalogued names ending in `msisdn`,
//! `callinglineid`, `clid` or `mdn` are caught by [`suffix_rule`].
//!
//! Context headers (`x-forwarded-for`, `x-wap-profile`, `via`, bearer and
//! roaming flags, ...) are deliberately absent: they are not subscriber IDs.

use super::LeakKind;

/// One catalogued header name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The wire name, lower-case.
    pub name: &'static str,
    /// What a non-empty value in this header is reported as.
    pub kind: LeakKind,
    /// What the header carries, in a few words.
    pub carries: &'static str,
    /// Evidence tier: 1 = several or primary sources (research grades A/B),
    /// 2 = only third-party code lists or one-off mentions (grade C).
    pub tier: u8,
    /// Short citation of where the name comes from.
    pub source: &'static str,
    /// True when the kind is decided by the value (`x-up-subno`): a plausible
    /// international number makes it an MSISDN header, anything else a
    /// subscriber ID.
    pub by_value: bool,
}

const fn msisdn(
    name: &'static str,
    carries: &'static str,
    tier: u8,
    source: &'static str,
) -> Entry {
    Entry {
        name,
        kind: LeakKind::MsisdnHeader,
        carries,
        tier,
        source,
        by_value: false,
    }
}

const fn subscriber(
    name: &'static str,
    carries: &'static str,
    tier: u8,
    source: &'static str,
) -> Entry {
    Entry {
        name,
        kind: LeakKind::SubscriberIdHeader,
        carries,
        tier,
        source,
        by_value: false,
    }
}

const fn mixed(name: &'static str, carries: &'static str, tier: u8, source: &'static str) -> Entry {
    Entry {
        name,
        kind: LeakKind::SubscriberIdHeader,
        carries,
        tier,
        source,
        by_value: true,
    }
}

/// Longest name [`lookup`] can match (longer names are never catalogued).
const MAX_NAME: usize = 64;

/// Every entry, sorted by name (byte order) for binary search.
#[rustfmt::skip]
static ENTRIES: &[Entry] = &[
    msisdn("_rapmdn", "MDN, 10-digit national (Reliance India)", 2, "Hungama WAP code"),
    msisdn("_rapmin", "MSISDN (Reliance India)", 2, "Hungama WAP code"),
    subscriber("clientid", "Sprint client ID (base64 + realm)", 1, "Adobe Analytics visitor identification; Graham-Cumming 2012"),
    msisdn("i-msisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    msisdn("igcli", "MSISDN (calling line id)", 2, "Mulliner ICIN 2010 via mobile-subscriber-gem (2nd)"),
    msisdn("imisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    msisdn("mdn", "MDN (CDMA phone number)", 2, "Hungama WAP code"),
    msisdn("mscope-msisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    msisdn("msisdn", "MSISDN in clear or encrypted (base64)", 1, "Graham-Cumming 2012; Netalyzr blog; mobile-subscriber-gem; Dialog/IdeaBiz HE doc; public F5 PEM iRule"),
    msisdn("msisdn_number", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    msisdn("nbg-imp-msisdn", "MSISDN (inferred)", 2, "Hungama WAP code"),
    msisdn("rapmin", "MSISDN (Reliance India)", 2, "Hungama WAP code; Mulliner ICIN 2010 via mobile-subscriber-gem (2nd)"),
    subscriber("rim-device-id", "BlackBerry device PIN", 1, "Adobe Analytics visitor identification"),
    subscriber("tm-user-id", "tracking ID (dash spelling of tm_user-id)", 2, "MITM-proxy strip lists"),
    subscriber("tm_user-id", "tracking ID", 2, "public PHP tracker-checker list; MITM-proxy strip lists"),
    msisdn("user-identity-forward-msisdn", "MSISDN (Idea India; also a cookie pair)", 2, "Hungama WAP code"),
    msisdn("vzv-msisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    subscriber("x-access-subnym", "subscriber pseudonym", 2, "mobiforge \"useful x-headers\" lists in code"),
    subscriber("x-acr", "Anonymous Customer Reference (AT&T)", 1, "Netalyzr blog; Vallina-Rodriguez et al., HotMiddlebox 2015; AccessNow AmIBeingTracked headers.csv; AT&T ACR patent"),
    subscriber("x-amobee-1", "Amobee ad-tracking ID (Bharti Airtel)", 1, "AccessNow AmIBeingTracked headers.csv; MediaNama 2015; public PHP tracker-checker list; MITM-proxy strip lists"),
    subscriber("x-amobee-2", "Amobee ad-tracking ID (Bharti Airtel)", 1, "AccessNow AmIBeingTracked headers.csv; MediaNama 2015; MITM-proxy strip lists"),
    subscriber("x-avantgo-deviceid", "AvantGo client device ID (client app)", 2, "AccessNow AmIBeingTracked headers.csv"),
    subscriber("x-avantgo-userid", "AvantGo client user ID (client app)", 2, "51Degrees RequestRecord comments; AccessNow AmIBeingTracked headers.csv; BEACONS tracker-checker list (public code)"),
    msisdn("x-bam-msisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    subscriber("x-dcmguid", "NTT docomo i-mode ID", 1, "Japanese Wikipedia, 契約者固有ID; Google Analytics for Mobile code"),
    subscriber("x-drutt-device-id", "Drutt portal device ID", 2, "mobiforge \"useful x-headers\" lists in code"),
    subscriber("x-drutt-portal-user-id", "Drutt portal user ID", 2, "BEACONS tracker-checker list (public code); mobiforge \"useful x-headers\" lists in code"),
    msisdn("x-drutt-portal-user-msisdn", "MSISDN (Drutt portal)", 2, "BEACONS tracker-checker list (public code); mobiforge \"useful x-headers\" lists in code"),
    msisdn("x-du-msisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    subscriber("x-em-guid", "EMOBILE user ID", 2, "Japanese mobile-carrier libraries"),
    subscriber("x-em-uid", "EMOBILE user ID", 2, "Japanese mobile-carrier libraries"),
    subscriber("x-fcckv2", "tracking ID (unclear)", 2, "AccessNow AmIBeingTracked headers.csv"),
    msisdn("x-fh-msisdn", "MSISDN", 2, "Mulliner ICIN 2010 via mobile-subscriber-gem (2nd)"),
    msisdn("x-forwarded-msisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    msisdn("x-h3g-msisdn", "MSISDN (Hutchison 3)", 1, "BEACONS tracker-checker list (public code); Mulliner ICIN 2010 via mobile-subscriber-gem (2nd); mobiforge \"useful x-headers\" lists in code"),
    subscriber("x-h3g-party-user-id", "H3G user ID", 2, "AccessNow AmIBeingTracked headers.csv"),
    msisdn("x-ht-msisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    msisdn("x-hts-clid", "MSISDN", 1, "Adobe Analytics visitor identification; Mulliner ICIN 2010 via mobile-subscriber-gem (2nd)"),
    msisdn("x-hts_clid", "MSISDN (underscore spelling of x-hts-clid)", 1, "Adobe Analytics visitor identification; Mulliner ICIN 2010 via mobile-subscriber-gem (2nd)"),
    msisdn("x-hutch-msisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    subscriber("x-imsi", "IMSI", 1, "51Degrees RequestRecord comments; mobile-subscriber-gem; BEACONS tracker-checker list (public code)"),
    msisdn("x-jinny-cid", "MSISDN (Jinny gateway)", 1, "Safaricom public code; Mulliner ICIN 2010 via mobile-subscriber-gem (2nd)"),
    msisdn("x-jinny.cid", "MSISDN (Jinny gateway)", 1, "AccessNow AmIBeingTracked headers.csv; Safaricom public code"),
    subscriber("x-jphone-uid", "SoftBank user ID", 1, "Adobe Analytics visitor identification; Japanese mobile-carrier libraries; AccessNow AmIBeingTracked headers.csv"),
    msisdn("x-mdn", "MDN (CDMA phone number)", 2, "Hungama WAP code; public Android MMS code"),
    msisdn("x-msisdn", "MSISDN in clear", 1, "Graham-Cumming 2012; NowWAP header enrichment doc; AccessNow AmIBeingTracked headers.csv; techjunction HE explainer"),
    msisdn("x-msp-clid", "MSISDN", 2, "Mulliner ICIN 2010 via mobile-subscriber-gem (2nd); Opera Mini ping code"),
    msisdn("x-msp-msisdn", "MSISDN", 2, "Mulliner ICIN 2010 via mobile-subscriber-gem (2nd); Opera Mini ping code"),
    subscriber("x-nokia-alias", "encrypted MSISDN (Nokia gateway)", 1, "51Degrees RequestRecord comments; AccessNow AmIBeingTracked headers.csv"),
    subscriber("x-nokia-imsi", "IMSI (Nokia gateway)", 1, "51Degrees RequestRecord comments; mobile-subscriber-gem"),
    msisdn("x-nokia-msisdn", "MSISDN in clear (Nokia gateway)", 1, "51Degrees RequestRecord comments; mobile-subscriber-gem; AccessNow AmIBeingTracked headers.csv; pointbeing.net 2012"),
    msisdn("x-nx-clid", "MSISDN (calling line id)", 2, "Mulliner ICIN 2010 via mobile-subscriber-gem (2nd)"),
    subscriber("x-opwv-ddm-httpmiscdd", "Openwave DDM subscriber plan data (base64)", 1, "Graham-Cumming 2012; AccessNow AmIBeingTracked headers.csv; osxfortress-linked Squid README"),
    subscriber("x-opwv-ddm-identity", "Openwave DDM identity data (base64)", 1, "Graham-Cumming 2012; AccessNow AmIBeingTracked headers.csv; osxfortress-linked Squid README"),
    subscriber("x-opwv-ddm-subscriber", "Openwave DDM subscriber data (base64)", 1, "Graham-Cumming 2012; AccessNow AmIBeingTracked headers.csv; osxfortress-linked Squid README"),
    msisdn("x-orange-cli", "MSISDN (calling line id, Orange inferred)", 2, "Mulliner ICIN 2010 via mobile-subscriber-gem (2nd)"),
    subscriber("x-orange-id", "Orange subscriber ID", 2, "mobiforge \"useful x-headers\" lists in code"),
    msisdn("x-original-msisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    subscriber("x-piper-id", "tracking ID", 2, "AccessNow AmIBeingTracked headers.csv; public PHP tracker-checker list; BEACONS tracker-checker list (public code)"),
    subscriber("x-saucer", "tracking ID (unclear)", 2, "AccessNow AmIBeingTracked headers.csv"),
    msisdn("x-source-msisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    msisdn("x-subscriber", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    msisdn("x-tata-msisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
    subscriber("x-uidh", "opaque tracking ID (Verizon UIDH)", 1, "Mayer, webpolicy.org 2014; Netalyzr blog; AccessNow AmIBeingTracked headers.csv; EFF via Threatpost"),
    subscriber("x-up-3gpp-imeisv", "IMEI-SV (device)", 1, "Netalyzr blog; AccessNow AmIBeingTracked headers.csv"),
    msisdn("x-up-calling-line", "MSISDN (calling line id)", 2, "Mulliner ICIN 2010 via mobile-subscriber-gem (2nd)"),
    msisdn("x-up-calling-line-id", "MSISDN in clear (E.164 digits, often no +)", 1, "The Register 2012-01-25; Wired UK 2012; Engadget 2012; broadband-expert.co.uk (value format); Netalyzr blog; Adobe Analytics visitor identification; FortiOS Carrier doc; TeliaSonera FI MSISDN enrichment manual; mobile-subscriber-gem; AccessNow AmIBeingTracked headers.csv"),
    msisdn("x-up-ch-msisdn", "MSISDN", 2, "mobile-subscriber-gem"),
    msisdn("x-up-lsid", "MSISDN", 2, "Mulliner ICIN 2010 via mobile-subscriber-gem (2nd)"),
    subscriber("x-up-nai", "NAI, user@operator", 1, "Netalyzr blog"),
    mixed("x-up-subno", "opaque subscriber ID (AT&T, Cingular, KDDI); MSISDN at Claro CO/PA", 1, "Graham-Cumming 2012; Adobe Analytics visitor identification; Japanese mobile-carrier libraries; AccessNow AmIBeingTracked headers.csv; mobile-subscriber-gem"),
    subscriber("x-up-subscriber-cos", "Openwave subscriber class of service", 1, "Graham-Cumming 2012; AccessNow AmIBeingTracked headers.csv; osxfortress-linked Squid README"),
    msisdn("x-up-vodacomgw-subid", "MSISDN (Vodacom Openwave gateway)", 1, "Netalyzr blog; BEACONS tracker-checker list (public code)"),
    msisdn("x-upvodacomgw-subid", "MSISDN (AccessNow spelling of x-up-vodacomgw-subid)", 1, "AccessNow AmIBeingTracked headers.csv"),
    subscriber("x-vf-acr", "Anonymous Customer Reference (Vodafone)", 1, "Graham-Cumming 2012; Netalyzr blog; AccessNow AmIBeingTracked headers.csv"),
    subscriber("x-wap-3gpp-imsi", "IMSI", 1, "NowWAP header enrichment doc"),
    msisdn("x-wap-clientid", "MSISDN (inferred)", 2, "Hungama WAP code"),
    msisdn("x-wap-fh-subscriber-info", "MSISDN / subscriber info", 2, "Mulliner ICIN 2010 via mobile-subscriber-gem (2nd)"),
    subscriber("x-wap-kid", "tracking ID (unclear)", 2, "AccessNow AmIBeingTracked headers.csv"),
    msisdn("x-wap-msisdn", "MSISDN", 1, "Adobe Analytics visitor identification; mobile-subscriber-gem"),
    msisdn("x-wap-network-client-msisdn", "MSISDN (WAP gateways, MMSCs)", 1, "Hungama WAP code; public MMSC code lists; BEACONS tracker-checker list (public code)"),
    msisdn("x-wap-sesiones3g-mdn", "MDN (Iusacell MX)", 2, "mobile-subscriber-gem"),
    msisdn("x-wsb-cli", "MSISDN (calling line id)", 2, "Mulliner ICIN 2010 via mobile-subscriber-gem (2nd)"),
    msisdn("x-wsb-identity", "MSISDN (inferred)", 2, "BEACONS tracker-checker list (public code); Hungama WAP code"),
    msisdn("x-wte-msisdn", "MSISDN (Vodafone WTE, inferred)", 2, "AccessNow AmIBeingTracked headers.csv; BEACONS tracker-checker list (public code)"),
    msisdn("x-ztgo-beareraddress", "MSISDN (Movistar EC)", 2, "mobile-subscriber-gem"),
    subscriber("x_mti_email", "e-mail address", 2, "AccessNow AmIBeingTracked headers.csv; osxfortress-linked Squid README"),
    subscriber("x_mti_empid", "employee ID", 2, "AccessNow AmIBeingTracked headers.csv; osxfortress-linked Squid README"),
    subscriber("x_mti_username", "user name", 2, "AccessNow AmIBeingTracked headers.csv; osxfortress-linked Squid README"),
    msisdn("xmsisdn", "MSISDN (inferred)", 2, "Hungama WAP code"),
    msisdn("y-msisdn", "MSISDN (inferred from name)", 2, "carrier-billing/DCB code lists"),
];

/// Who was seen using each catalogued name (operators, gateways, vendors),
/// from `shared/research/msisdn-headers.md` §3, sorted by name.
#[rustfmt::skip]
static SEEN_BY: &[(&str, &str)] = &[
    ("_rapmdn", "Reliance (India) WAP gw"),
    ("_rapmin", "Reliance (India) WAP gw"),
    ("clientid", "Sprint"),
    ("i-msisdn", "not known (operator attribution is guesswork)"),
    ("igcli", "not stated"),
    ("imisdn", "not known (operator attribution is guesswork)"),
    ("mdn", "MTS India (per Hungama code)"),
    ("mscope-msisdn", "not known (operator attribution is guesswork)"),
    ("msisdn", "Claro DO/PY/BR/EC (gem); Dialog Sri Lanka (encrypted); F5 BIG-IP PEM iRules"),
    ("msisdn_number", "not known (operator attribution is guesswork)"),
    ("nbg-imp-msisdn", "Indian operators (Hungama list)"),
    ("rapmin", "Reliance (India) WAP gw"),
    ("rim-device-id", "RIM/BlackBerry proxy"),
    ("tm-user-id", "not stated (Telefónica? inferred)"),
    ("tm_user-id", "not stated (Telefónica? inferred)"),
    ("user-identity-forward-msisdn", "Idea Cellular (India), Singtel (code checks gw IP)"),
    ("vzv-msisdn", "not known (operator attribution is guesswork)"),
    ("x-access-subnym", "not stated"),
    ("x-acr", "AT&T (test, stopped Nov 2014)"),
    ("x-amobee-1", "Bharti Airtel (4 tests)"),
    ("x-amobee-2", "Bharti Airtel (4 tests)"),
    ("x-avantgo-deviceid", "AvantGo app"),
    ("x-avantgo-userid", "AvantGo app"),
    ("x-bam-msisdn", "not known (operator attribution is guesswork)"),
    ("x-dcmguid", "NTT docomo"),
    ("x-drutt-device-id", "Drutt portal"),
    ("x-drutt-portal-user-id", "Drutt portal"),
    ("x-drutt-portal-user-msisdn", "Drutt mobile portal platform"),
    ("x-du-msisdn", "not known (operator attribution is guesswork)"),
    ("x-em-guid", "EMOBILE JP"),
    ("x-em-uid", "EMOBILE JP"),
    ("x-fcckv2", "not stated"),
    ("x-fh-msisdn", "not stated"),
    ("x-forwarded-msisdn", "not known (operator attribution is guesswork)"),
    ("x-h3g-msisdn", "Hutchison \"3\" (H3G) (inf from name)"),
    ("x-h3g-party-user-id", "Hutchison 3 (inf)"),
    ("x-ht-msisdn", "not known (operator attribution is guesswork)"),
    ("x-hts-clid", "not known (attributed to Mulliner's list)"),
    ("x-hts_clid", "not known (attributed to Mulliner's list)"),
    ("x-hutch-msisdn", "not known (operator attribution is guesswork)"),
    ("x-imsi", "Claro Panamá (gem); generic"),
    ("x-jinny-cid", "Jinny Software gateway; Safaricom (Kenya) code reads it first"),
    ("x-jinny.cid", "Jinny Software gateway; Safaricom (Kenya) code reads it first"),
    ("x-jphone-uid", "SoftBank Mobile JP"),
    ("x-mdn", "Tata Indicom CDMA (per Hungama code); Android MMS code sends it itself (client-side)"),
    ("x-msisdn", "NowWAP \"Basic HHE\" default; T-Mobile (per a public proxy README); generic GGSN/PGW header-enrichment examples"),
    ("x-msp-clid", "not stated"),
    ("x-msp-msisdn", "not stated"),
    ("x-nokia-alias", "Nokia gw"),
    ("x-nokia-imsi", "Nokia gw; Claro GT/PE/AR (gem)"),
    ("x-nokia-msisdn", "Nokia WAP gateway; Claro PR/GT/SV/HN/NI/CR/AR, Telcel MX (gem)"),
    ("x-nx-clid", "not stated"),
    ("x-opwv-ddm-httpmiscdd", "Vodacom (South Africa)"),
    ("x-opwv-ddm-identity", "Vodacom (South Africa)"),
    ("x-opwv-ddm-subscriber", "Vodacom (South Africa)"),
    ("x-orange-cli", "Orange (inferred from the name)"),
    ("x-orange-id", "Orange"),
    ("x-original-msisdn", "not known (operator attribution is guesswork)"),
    ("x-piper-id", "not stated"),
    ("x-saucer", "not stated"),
    ("x-source-msisdn", "not known (operator attribution is guesswork)"),
    ("x-subscriber", "not known (operator attribution is guesswork)"),
    ("x-tata-msisdn", "not known (operator attribution is guesswork)"),
    ("x-uidh", "Verizon Wireless (since ~2012)"),
    ("x-up-3gpp-imeisv", "Openwave gw"),
    ("x-up-calling-line", "not stated"),
    ("x-up-calling-line-id", "Openwave (UP.Link/WAP gw) feature; O2 UK + giffgaff/Tesco 2012; TeliaSonera FI; Movistar MX/PE/AR, Claro PE, TIM Brasil, Oi Brasil (per gem); many others"),
    ("x-up-ch-msisdn", "Vivo Brasil (gem)"),
    ("x-up-lsid", "not stated"),
    ("x-up-nai", "Openwave gw"),
    ("x-up-subno", "AT&T/Cingular (US) and KDDI au (JP) as an opaque ID; Claro Colombia and Claro Panamá as the MSISDN (gem)"),
    ("x-up-subscriber-cos", "Vodacom (South Africa)"),
    ("x-up-vodacomgw-subid", "Vodacom (South Africa) Openwave gw (inf from name)"),
    ("x-upvodacomgw-subid", "Vodacom (South Africa) Openwave gw (inf from name)"),
    ("x-vf-acr", "Vodafone (NL and Spain per Access Now; seen by Graham-Cumming in 2012)"),
    ("x-wap-3gpp-imsi", "NowWAP \"Basic HHE\""),
    ("x-wap-clientid", "Indian operators (Hungama list)"),
    ("x-wap-fh-subscriber-info", "not stated"),
    ("x-wap-kid", "not stated"),
    ("x-wap-msisdn", "Claro Chile (gem)"),
    ("x-wap-network-client-msisdn", "WAP gateways generally; used by MMSCs to identify MM1 senders (Go MMSC code)"),
    ("x-wap-sesiones3g-mdn", "Iusacell MX (gem)"),
    ("x-wsb-cli", "not stated"),
    ("x-wsb-identity", "Indian operators (appears in Hungama WAP code next to other MSISDN names)"),
    ("x-wte-msisdn", "Vodafone Web Transformation Engine (Novarra), inferred"),
    ("x-ztgo-beareraddress", "Movistar Ecuador (gem)"),
    ("x_mti_email", "not stated (enterprise proxy?)"),
    ("x_mti_empid", "not stated (enterprise proxy?)"),
    ("x_mti_username", "not stated (enterprise proxy?)"),
    ("xmsisdn", "Indian operators (Hungama list)"),
    ("y-msisdn", "not known (operator attribution is guesswork)"),
];

impl Entry {
    /// Who was seen using this name (operators, gateways, vendors), or "not
    /// stated".
    pub fn seen_by(&self) -> &'static str {
        SEEN_BY
            .binary_search_by(|(n, _)| n.cmp(&self.name))
            .ok()
            .and_then(|i| SEEN_BY.get(i))
            .map_or("not stated", |(_, w)| w)
    }
}

/// All catalogued entries, sorted by name.
pub fn entries() -> &'static [Entry] {
    ENTRIES
}

/// Looks a header name up, ignoring ASCII case. Allocation-free.
pub fn lookup(name: &str) -> Option<&'static Entry> {
    let mut buf = [0u8; MAX_NAME];
    let slot = buf.get_mut(..name.len())?;
    slot.copy_from_slice(name.as_bytes());
    slot.make_ascii_lowercase();
    let key: &[u8] = slot;
    ENTRIES
        .binary_search_by(|e| e.name.as_bytes().cmp(key))
        .ok()
        .and_then(|i| ENTRIES.get(i))
}

/// Suffixes of the letters-only, lower-cased name that mark a probable MSISDN
/// header (after Adobe Analytics' production rule).
const SUFFIXES: [&[u8]; 4] = [b"msisdn", b"callinglineid", b"clid", b"mdn"];

/// [`suffix_rule`] given the name's ASCII letters, lower-cased, in order.
pub(crate) fn suffix_of_letters(letters: &[u8]) -> bool {
    SUFFIXES.iter().any(|s| letters.ends_with(s))
}

/// The suffix rule for names that are not catalogued: true when the name,
/// with everything but ASCII letters removed and lower-cased, ends with
/// `msisdn`, `callinglineid`, `clid` or `mdn` (`X-Operator-MSISDN`,
/// `nokia-callinglineid`, `X_MDN`). Such names are MSISDN headers of tier 2.
/// Allocation-free for any length.
pub fn suffix_rule(name: &str) -> bool {
    SUFFIXES.iter().any(|suffix| {
        let mut letters = name
            .bytes()
            .rev()
            .filter(u8::is_ascii_alphabetic)
            .map(|b| b.to_ascii_lowercase());
        suffix
            .iter()
            .rev()
            .all(|&want| letters.next() == Some(want))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn everyone_seen_by_someone_or_not_stated() {
        for w in SEEN_BY.windows(2) {
            assert!(w[0].0 < w[1].0, "{}", w[1].0);
        }
        for e in entries() {
            assert!(SEEN_BY.iter().any(|(n, _)| *n == e.name), "{}", e.name);
            assert!(!e.seen_by().is_empty());
        }
        assert!(
            lookup("x-up-calling-line-id")
                .unwrap()
                .seen_by()
                .contains("O2 UK")
        );
    }

    #[test]
    fn sorted_unique_lowercase_and_complete_fields() {
        for w in ENTRIES.windows(2) {
            assert!(w[0].name < w[1].name, "{} / {}", w[0].name, w[1].name);
        }
        for e in ENTRIES {
            assert!(!e.name.is_empty() && e.name.len() <= MAX_NAME);
            assert_eq!(e.name, e.name.to_ascii_lowercase());
            assert!(
                e.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
                "{} is not a header token",
                e.name
            );
            assert!(e.tier == 1 || e.tier == 2, "{}", e.name);
            assert!(!e.carries.is_empty() && !e.source.is_empty(), "{}", e.name);
            assert_eq!(lookup(e.name), Some(e));
        }
    }

    #[test]
    fn lookup_ignores_case() {
        let e = lookup("X-Up-Calling-Line-ID").unwrap();
        assert_eq!(e.name, "x-up-calling-line-id");
        assert_eq!(e.kind, LeakKind::MsisdnHeader);
        assert_eq!(e.tier, 1);
        assert!(e.source.contains("The Register 2012-01-25"));
        assert_eq!(lookup("X-UP-CALLING-LINE-ID"), Some(e));
        assert_eq!(lookup("MSISDN").unwrap().name, "msisdn");
        assert_eq!(lookup("X-Jinny.CID").unwrap().name, "x-jinny.cid");
        assert_eq!(lookup("X-Hts_clid").unwrap().name, "x-hts_clid");
        assert_eq!(lookup("x-up-calling-line-id "), None);
        assert_eq!(lookup(""), None);
        assert_eq!(lookup(&"x".repeat(65)), None);
        assert_eq!(lookup("X-UIDH").unwrap().kind, LeakKind::SubscriberIdHeader);
        assert_eq!(lookup("x-ÜIDH"), None);
    }

    #[test]
    fn tier_one_msisdn_names_from_research() {
        for name in [
            "x-up-calling-line-id",
            "x-msisdn",
            "msisdn",
            "x-nokia-msisdn",
            "x-hts-clid",
            "x-wap-msisdn",
            "x-wap-network-client-msisdn",
            "x-up-vodacomgw-subid",
            "x-h3g-msisdn",
            "x-jinny-cid",
            "x-jinny.cid",
        ] {
            let e = lookup(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!((e.kind, e.tier), (LeakKind::MsisdnHeader, 1), "{name}");
        }
        for name in [
            "x-up-ch-msisdn",
            "x-mdn",
            "user-identity-forward-msisdn",
            "x-wsb-identity",
            "_rapmdn",
        ] {
            let e = lookup(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!((e.kind, e.tier), (LeakKind::MsisdnHeader, 2), "{name}");
        }
    }

    #[test]
    fn subscriber_id_names_from_research() {
        for name in [
            "x-imsi",
            "x-nokia-imsi",
            "x-wap-3gpp-imsi",
            "x-up-3gpp-imeisv",
            "rim-device-id",
            "x-uidh",
            "x-acr",
            "x-vf-acr",
            "x-jphone-uid",
            "x-dcmguid",
            "clientid",
            "x-nokia-alias",
            "x-up-nai",
            "x-amobee-1",
            "x-amobee-2",
            "x-opwv-ddm-identity",
            "x-opwv-ddm-subscriber",
            "x-opwv-ddm-httpmiscdd",
            "x-up-subscriber-cos",
            "x-h3g-party-user-id",
            "tm_user-id",
            "x-piper-id",
        ] {
            let e = lookup(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(e.kind, LeakKind::SubscriberIdHeader, "{name}");
            assert!(!e.by_value, "{name}");
        }
        let subno = lookup("X-UP-SUBNO").unwrap();
        assert!(subno.by_value);
        assert_eq!(ENTRIES.iter().filter(|e| e.by_value).count(), 1);
    }

    #[test]
    fn context_headers_are_not_catalogued() {
        for name in [
            "x-forwarded-for",
            "x-wap-profile",
            "x-wap-profile-diff",
            "via",
            "x-network-info",
            "x-wap-client-ip",
            "x-nokia-ipaddress",
            "x-up-bearer-type",
            "x-nokia-bearer",
            "x-roaming",
            "x-wap-3gpp-sgsn-mcc-mnc",
            "lbs-zoneid",
            "o2gw-id",
            "x-att-deviceid",
            "profile",
            "cookie",
        ] {
            assert_eq!(lookup(name), None, "{name}");
            assert!(!suffix_rule(name), "{name}");
        }
    }

    #[test]
    fn suffix_rule_matches() {
        for name in [
            "X-Operator-MSISDN",
            "nokia-callinglineid",
            "X-Calling-Line-ID",
            "x_some_msisdn",
            "X-Foo-CLID",
            "x-carrier-mdn",
            "MDN",
            "HTTP_X_TELCO_MSISDN",
        ] {
            assert!(suffix_rule(name), "{name}");
        }
        for name in [
            "Content-Length",
            "Host",
            "Cookie",
            "User-Agent",
            "X-Forwarded-For",
            "Accept-Language",
            "X-Request-Id",
            "Accept",
            "Authorization",
            "X-Client-Id",
            "X-MSISDN-Format",
            "cdn",
            "sdn",
            "lid",
            "",
            "-",
            "msisdn\u{FFFD}x",
        ] {
            assert!(!suffix_rule(name), "{name}");
        }
    }

    #[test]
    fn docs_table_lists_every_entry() {
        let doc = include_str!("../../docs/headers.md");
        let section = doc.split("## Catalogue").nth(1).unwrap();
        let section = section.split("\n## ").next().unwrap();
        let rows = section.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(rows, ENTRIES.len(), "docs/headers.md table rows");
        for e in ENTRIES {
            let row = format!("| `{}` |", e.name);
            assert!(section.contains(&row), "docs/headers.md lacks {}", e.name);
        }
    }
}
