//! One-pass classification of header names, cookie names and parameter keys.
//!
//! Every header of every request is classified, so this is on the hot path.
//! One walk over the name lower-cases it, hashes it (FNV-1a, then a
//! displacement per bucket chosen so that the names of the table below land
//! in distinct slots: a
//! perfect hash) and collects its letters. A hit in the table (every
//! catalogued name, the common standard header names, common cookie names
//! and query keys) returns what was computed for that name when the table
//! was built, by the plain rules themselves ([`model`]); a miss is not
//! catalogued (every catalogued name is in the table) and only the suffix
//! rule and the phone-word rules are left, read off the collected letters and
//! words. No allocation; names longer than [`MAX_NAME`] take the plain rules.
//!
//! `model` is kept as the reference: the property tests below compare the two
//! on arbitrary names.
use std::sync::LazyLock;

use super::catalogue::{self, Entry};
use super::scan;

/// What the detector needs to know about a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameInfo {
    /// The catalogue entry ([`catalogue::lookup`]).
    pub entry: Option<&'static Entry>,
    /// The suffix rule holds ([`catalogue::suffix_rule`]).
    pub suffix: bool,
    /// The name is phone-like as written, with no trimming (the body of
    /// [`scan::is_phone_key`] after it trims).
    pub phone: bool,
    /// The name says its value is subscriber data
    /// ([`scan::is_subscriber_name_model`]).
    pub subscriber: bool,
    /// The name is `Cookie` (any case).
    pub cookie: bool,
}

/// Longest name classified in one pass; longer ones take [`model`].
pub(crate) const MAX_NAME: usize = 64;

/// The plain rules, one after the other: the reference for [`classify`].
pub(crate) fn model(name: &str) -> NameInfo {
    NameInfo {
        entry: catalogue::lookup(name),
        suffix: catalogue::suffix_rule(name),
        phone: scan::phone_key_model(name),
        subscriber: scan::is_subscriber_name_model(name),
        cookie: name.eq_ignore_ascii_case("cookie"),
    }
}

/// Common names that are not catalogued, put in the table so that their
/// classification is one hash and one comparison. Any name may be listed:
/// what is stored for it is what [`model`] says.
const COMMON: &[&str] = &[
    // Request headers.
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "authorization",
    "cache-control",
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "cookie",
    "date",
    "dnt",
    "expect",
    "forwarded",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "keep-alive",
    "origin",
    "pragma",
    "priority",
    "proxy-authorization",
    "proxy-connection",
    "range",
    "referer",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "sec-fetch-dest",
    "sec-fetch-mode",
    "sec-fetch-site",
    "sec-fetch-user",
    "te",
    "traceparent",
    "tracestate",
    "transfer-encoding",
    "upgrade",
    "upgrade-insecure-requests",
    "user-agent",
    "via",
    "x-att-deviceid",
    "x-client-info",
    "x-client-version",
    "x-csrf-token",
    "x-device-info",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-network-info",
    "x-online-host",
    "x-real-ip",
    "x-request-id",
    "x-requested-with",
    "x-wap-profile",
    // Cookie names and query keys.
    "_",
    "__utma",
    "__utmb",
    "__utmc",
    "__utmz",
    "_ga",
    "_gid",
    "cb",
    "id",
    "jsessionid",
    "lang",
    "page",
    "phpsessid",
    "q",
    "session",
    "sid",
    "t",
    "ts",
    "uid",
    "v",
];

const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

/// The perfect-hash table (hash and displace): a name's hash picks a
/// bucket, the bucket's displacement picks the slot; the displacements are
/// chosen when the table is built so that no two names share a slot.
struct Table {
    /// Displacement of each bucket.
    displace: Vec<u16>,
    /// Slot mask (slots are a power of two).
    mask: usize,
    /// Index into `names` plus one; zero for an empty slot.
    slots: Vec<u16>,
    /// Lower-case names with what [`model`] says of them.
    names: Vec<(&'static str, NameInfo)>,
}

/// Buckets of the first level (a power of two).
const BUCKETS: usize = 64;

fn bucket_of(hash: u64) -> usize {
    // The top bits: BUCKETS is far below 2^32.
    ((hash >> 40) as usize) & (BUCKETS - 1)
}

fn slot_of(hash: u64, displace: u16, mask: usize) -> usize {
    let mut x = hash ^ u64::from(displace).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xd6e8_feb8_6659_fd93);
    x ^= x >> 32;
    // `mask` is below 2^16: the truncation keeps the bits wanted.
    (x as usize) & mask
}

/// FNV-1a of the name with bit 5 of every byte set: the same for two names
/// that are equal but for ASCII case (it is what `to_ascii_lowercase` does to
/// letters), and cheaper.
fn hash_of(name: &[u8]) -> u64 {
    name.iter().fold(FNV_BASIS, |h, &b| {
        (h ^ u64::from(b | 0x20)).wrapping_mul(FNV_PRIME)
    })
}

fn build() -> Table {
    let mut names: Vec<&'static str> = catalogue::entries().iter().map(|e| e.name).collect();
    names.extend(COMMON);
    names.sort_unstable();
    names.dedup();
    let infos: Vec<(&'static str, NameInfo)> = names.iter().map(|&n| (n, model(n))).collect();
    let hashes: Vec<u64> = names.iter().map(|n| hash_of(n.as_bytes())).collect();
    let mut size = (names.len() * 2).next_power_of_two();
    loop {
        let mask = size - 1;
        let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); BUCKETS];
        for (i, &h) in hashes.iter().enumerate() {
            if let Some(b) = buckets.get_mut(bucket_of(h)) {
                b.push(i);
            }
        }
        let mut order: Vec<usize> = (0..BUCKETS).collect();
        order.sort_by_key(|&b| std::cmp::Reverse(buckets.get(b).map_or(0, Vec::len)));
        let mut slots = vec![0u16; size];
        let mut displace = vec![0u16; BUCKETS];
        let placed = order.iter().all(|&b| {
            let members = buckets.get(b).map(Vec::as_slice).unwrap_or_default();
            (0..=u16::MAX).any(|d| {
                // Buckets hold a handful of names: a fixed array, no allocation.
                let mut chosen = [usize::MAX; 32];
                for (n, &i) in members.iter().enumerate() {
                    let Some(slot) = hashes.get(i).map(|&h| slot_of(h, d, mask)) else {
                        return false;
                    };
                    let taken = slots.get(slot) != Some(&0);
                    let twice = chosen.get(..n).unwrap_or_default().contains(&slot);
                    match chosen.get_mut(n) {
                        Some(c) if !taken && !twice => *c = slot,
                        _ => return false,
                    }
                }
                for (&i, &slot) in members.iter().zip(&chosen) {
                    if let (Some(s), Ok(v)) = (slots.get_mut(slot), u16::try_from(i + 1)) {
                        *s = v;
                    }
                }
                if let Some(x) = displace.get_mut(b) {
                    *x = d;
                }
                true
            })
        });
        if placed {
            return Table {
                displace,
                mask,
                slots,
                names: infos,
            };
        }
        size *= 2;
    }
}

static TABLE: LazyLock<Table> = LazyLock::new(build);

/// Classifies `name` as written (no trimming): the same answer as [`model`].
pub(crate) fn classify(name: &str) -> NameInfo {
    let bytes = name.as_bytes();
    if bytes.len() > MAX_NAME {
        return model(name);
    }
    let table = &*TABLE;
    let hash = hash_of(bytes);
    let hit = table
        .slots
        .get(slot_of(
            hash,
            table.displace.get(bucket_of(hash)).copied().unwrap_or(0),
            table.mask,
        ))
        .and_then(|&i| table.names.get(usize::from(i).checked_sub(1)?))
        .filter(|(n, _)| n.as_bytes().eq_ignore_ascii_case(bytes))
        .map(|(_, info)| *info);
    // Stored for the lower-case name: right for any case but camel case (a
    // lower-case letter followed by an upper-case one is a word break,
    // `userPhone`, so the phone-word rules depend on the case as written).
    let camel = || {
        bytes.windows(2).any(|w| {
            w.first().is_some_and(u8::is_ascii_lowercase)
                && w.last().is_some_and(u8::is_ascii_uppercase)
        })
    };
    if let Some(info) = hit
        && !camel()
    {
        return info;
    }
    let mut letters = [0u8; MAX_NAME];
    let mut n_letters = 0usize;
    for (slot, b) in letters
        .iter_mut()
        .zip(bytes.iter().filter(|b| b.is_ascii_alphabetic()))
    {
        *slot = b.to_ascii_lowercase();
        n_letters += 1;
    }
    let letters = letters.get(..n_letters).unwrap_or_default();
    match hit {
        Some(mut info) => {
            let msisdn = info
                .entry
                .is_some_and(|e| e.kind == super::LeakKind::MsisdnHeader && !e.by_value);
            info.phone = msisdn || info.suffix || scan::phone_words_hold(name, letters);
            info
        }
        // Not catalogued: every catalogued name is in the table.
        None => {
            let suffix = catalogue::suffix_of_letters(letters);
            NameInfo {
                entry: None,
                suffix,
                phone: !bytes.is_empty() && (suffix || scan::phone_words_hold(name, letters)),
                subscriber: scan::subscriber_words_hold(name, letters),
                // `cookie` is in the table.
                cookie: false,
            }
        }
    }
}

/// Trims what [`scan::is_phone_key`] trims off a key.
pub(crate) fn trim_key(key: &str) -> &str {
    key.trim().trim_matches('"')
}

/// [`classify`] of a header name, with `phone` (and `subscriber`) said of
/// the name as [`scan::is_phone_key`] reads it (trimmed).
pub(crate) fn classify_header(name: &str) -> NameInfo {
    let mut info = classify(name);
    let trimmed = trim_key(name);
    if trimmed.len() != name.len() {
        let t = classify(trimmed);
        info.phone = t.phone;
        info.subscriber = t.subscriber;
    }
    info
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table_is_perfect_and_holds_every_entry() {
        let t = &*TABLE;
        let used = t.slots.iter().filter(|&&s| s != 0).count();
        assert_eq!(used, t.names.len());
        for e in catalogue::entries() {
            assert_eq!(classify(e.name).entry, Some(e), "{}", e.name);
            assert_eq!(
                classify(&e.name.to_ascii_uppercase()).entry,
                Some(e),
                "{}",
                e.name
            );
        }
        for n in COMMON {
            assert_eq!(n.to_ascii_lowercase(), *n);
            assert_eq!(classify(n), model(n), "{n}");
        }
    }

    #[test]
    fn known_answers() {
        assert!(classify("Cookie").cookie && classify("COOKIE").cookie);
        assert!(!classify("Cookie2").cookie);
        assert!(classify("X-Operator-MSISDN").suffix);
        assert!(classify("userPhone").phone);
        assert!(!classify("hotel").phone);
        assert!(classify("sec-ch-ua-mobile").phone);
        assert!(!classify("sec-ch-ua-mObIlE").phone);
        assert!(classify("x-Msisdn").phone && classify("X-MSISDN").phone);
        assert!(classify_header(" msisdn ").phone);
        assert!(classify_header("\"phone\"").phone);
        assert_eq!(classify(&"x".repeat(65)), model(&"x".repeat(65)));
        assert_eq!(classify(""), model(""));
    }

    /// Names close to the interesting ones: catalogued names, phone words,
    /// common names, in any case, with bytes inserted, cut or appended.
    fn name_strategy() -> impl Strategy<Value = String> {
        let mut seeds: Vec<String> = catalogue::entries()
            .iter()
            .map(|e| e.name.to_string())
            .collect();
        seeds.extend(COMMON.iter().map(|s| s.to_string()));
        seeds.extend(
            [
                "phone",
                "Phone",
                "msisdn",
                "callerid",
                "mobileNo",
                "x-caller",
                "X-Subscriber",
                "contact",
                "Contact-Number",
                "telno",
                "cli",
                "mdn",
                "clid",
                "hotel",
                "online",
                "subscriber",
                "x-up-subno",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        let seeded = (
            proptest::sample::select(seeds),
            "[a-zA-Z0-9_.\\- \"-]{0,6}",
            "[a-zA-Z0-9_.\\- \"-]{0,6}",
            any::<u64>(),
        )
            .prop_map(|(s, pre, post, flips)| {
                let cased: String = s
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if flips >> (i % 64) & 1 == 1 {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        }
                    })
                    .collect();
                match flips % 4 {
                    0 => cased,
                    1 => format!("{pre}{cased}"),
                    2 => format!("{cased}{post}"),
                    _ => format!("{pre}{cased}{post}"),
                }
            });
        prop_oneof![
            4 => seeded,
            2 => "[a-zA-Z_.\\-]{0,70}",
            1 => "[ -~]{0,70}",
            1 => any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn classify_agrees_with_the_plain_rules(name in name_strategy()) {
            prop_assert_eq!(classify(&name), model(&name), "{:?}", name);
            let header = classify_header(&name);
            prop_assert_eq!(header.phone, scan::is_phone_key_model(&name), "{:?}", name);
            prop_assert_eq!(scan::is_phone_key(&name), scan::is_phone_key_model(&name));
            prop_assert_eq!(header.entry, catalogue::lookup(&name));
            prop_assert_eq!(header.suffix, catalogue::suffix_rule(&name));
        }
    }
}
