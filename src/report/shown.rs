//! The shown request: a finding masked once (or in clear with
//! `--show-numbers`), with where it came from. It is the `request` line of the
//! JSON-lines contract field for field, so `phoneleak merge` reads it back and
//! every sink formats the same value whether it came from a capture or from a
//! shard's output.
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::community::community_id;
use super::subject::SubjectKey;
use super::{ReportOptions, found_text};
use crate::decode::{Tunnel, TunnelKind};
use crate::detect::{Leak, Place, mask_text};
use crate::pipeline::Finding;
use crate::time::Timestamp;
use crate::tls::TlsInfo;

/// Where a finding was read: the capture file, and which of its packets
/// completed the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The input as named on the command line or found in a folder (`-` for
    /// standard input, the interface for a live capture).
    pub file: Option<String>,
    /// In one part of a sharded scan (`--shard`), the input's number in the
    /// run: request lines then carry their `order`, for `merge`.
    pub shard_input: Option<u64>,
}

/// One leak as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownLeak {
    /// The header name in wire case, or `(request-target)`.
    pub header: String,
    /// The whole text it is in (header value or request target), masked.
    pub value: String,
    /// The number in E.164 form, masked; null without one.
    pub number: Option<String>,
    /// What leaked (`msisdn-header`, ...).
    pub kind: String,
    /// `high`, `medium` or `low`.
    pub confidence: String,
    /// Where in the request: header, cookie, query, uri.
    #[serde(rename = "where")]
    pub location: String,
    /// The cookie name or parameter key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What leaked as written (masked).
    pub found: String,
    /// The form of a known number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// The encoding of a known number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Whether the baseline lists it (only with `--baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_baseline: Option<bool>,
    /// The keyed pseudonym of the clear number or identifier (only with
    /// `--subject-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

impl ShownLeak {
    /// The number, else what was found: the aggregate tables' subject column.
    pub fn shown_subject(&self) -> &str {
        self.number.as_deref().unwrap_or(&self.found)
    }
}

/// The tunnel of a request, as shown (Suricata EVE's `tunnel` names, plus
/// the tunnel's identifier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownTunnel {
    /// The encapsulation (`gtp-u`, `gre`, `erspan`, `vxlan`, ...).
    pub proto: String,
    /// Outer source address (on S1-U/N3 uplink: the base station).
    pub src_ip: String,
    /// Outer destination address (the gateway).
    pub dest_ip: String,
    /// The GTP-U tunnel endpoint identifier (of the uplink).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teid: Option<u32>,
    /// The VXLAN network identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vni: Option<u32>,
}

impl ShownTunnel {
    fn of(t: &Tunnel) -> Self {
        let id_if = |kind| t.id.filter(|_| t.kind == kind);
        ShownTunnel {
            proto: t.kind.name().to_string(),
            src_ip: t.src.to_string(),
            dest_ip: t.dst.to_string(),
            teid: id_if(TunnelKind::GtpU),
            vni: id_if(TunnelKind::Vxlan),
        }
    }

    /// One line for the text and HTML reports: `gtp-u 10.0.0.1 -> 10.0.0.2 teid 0x1f`.
    pub fn describe(&self) -> String {
        let mut line = format!("{} {} -> {}", self.proto, self.src_ip, self.dest_ip);
        if let Some(teid) = self.teid {
            line.push_str(&format!(" teid {teid:#010x}"));
        }
        if let Some(vni) = self.vni {
            line.push_str(&format!(" vni {vni}"));
        }
        line
    }
}

/// The TLS connection a request was decrypted from, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownTls {
    /// The negotiated version (`TLS 1.3`, `TLS 1.2`).
    pub version: String,
    /// The negotiated cipher suite's IANA name.
    pub cipher_suite: String,
    /// The server name the client asked for (ClientHello SNI); omitted without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// The application protocol, when the handshake shows it (the server's
    /// choice in TLS 1.2; else the client's first offer); omitted without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
}

impl ShownTls {
    fn of(t: &TlsInfo) -> Self {
        ShownTls {
            version: crate::tls::version_name(t.version),
            cipher_suite: crate::tls::suite_name(t.cipher_suite),
            sni: t.sni.clone(),
            alpn: t.alpn.clone().or_else(|| t.alpn_offered.first().cloned()),
        }
    }

    /// One line for the text and HTML reports: `TLS 1.3 TLS_AES_128_GCM_SHA256 sni example.com`.
    pub fn describe(&self) -> String {
        let mut line = format!("{} {}", self.version, self.cipher_suite);
        if let Some(sni) = &self.sni {
            line.push_str(&format!(" sni {sni}"));
        }
        if let Some(alpn) = &self.alpn {
            line.push_str(&format!(" alpn {alpn}"));
        }
        line
    }
}

/// The body of a request, as shown: how it came and was read (its
/// leaking fields are in the leaks, masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownBody {
    /// Bytes framed on the wire.
    pub length: u64,
    /// How it was read: `json`, `form`, `multipart`, `xml`, `text`, `unparsed`.
    pub kind: String,
    /// The content codings undone, as sent (`gzip`); omitted without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Not all of it was read (a limit, the end of the stream).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// The capture lost bytes of it: what came before was read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gap: bool,
    /// Fields read from it.
    pub fields: usize,
    /// [`crate::body::Body::digest`] in hex, when the whole body was read;
    /// omitted when a number was found in the body and numbers are masked
    /// (a short body's digest could be matched against every number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl ShownBody {
    /// The shown body; `masked` leaves its digest out.
    fn of(b: &crate::body::Body, masked: bool) -> Self {
        ShownBody {
            length: b.length,
            kind: b.kind.as_str().to_string(),
            encoding: b.encoding.clone(),
            truncated: b.truncated,
            gap: b.gap,
            fields: b.fields.len(),
            digest: b
                .digest
                .filter(|_| !masked)
                .map(|d| crate::body::digest_hex(&d)),
        }
    }
}

/// Longest body field value shown whole in a leak's `value`; a longer one
/// is shown as the part around what was found.
const BODY_VALUE_SHOWN: usize = 256;

/// The part of a (masked) body field value around `span`, with `…` where
/// it was cut.
fn around(text: &str, span: &std::ops::Range<usize>) -> String {
    if text.len() <= BODY_VALUE_SHOWN {
        return text.to_string();
    }
    let mut start = span.start.saturating_sub(64).min(text.len());
    while !text.is_char_boundary(start) {
        start = start.saturating_sub(1);
    }
    let mut end = span.end.saturating_add(64).min(text.len()).max(start);
    while !text.is_char_boundary(end) {
        end = end.saturating_add(1);
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(text.get(start..end).unwrap_or_default());
    if end < text.len() {
        out.push('…');
    }
    out
}

/// A request ready for any sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown {
    /// Capture time of the request's first byte (RFC 3339, microseconds).
    pub ts: String,
    /// The client, `address:port`.
    pub src: String,
    /// The server, `address:port`.
    pub dst: String,
    /// Request method.
    pub method: String,
    /// The request target, masked.
    pub uri: String,
    /// Protocol version.
    pub version: String,
    /// The Host header (or absolute-form authority), unmasked.
    pub host: Option<String>,
    /// Every header, `[name, value]`, values masked.
    pub headers: Vec<(String, String)>,
    /// The leaks.
    pub leaks: Vec<ShownLeak>,
    /// The header block was cut.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// The capture file it was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The packet (from 1, within its file) whose processing completed the
    /// request; null when the end of the input did (a head cut short).
    #[serde(default)]
    pub packet: Option<u64>,
    /// The flow: the number (from 1, within its file) of the packet that
    /// created it.
    #[serde(default)]
    pub flow_id: u64,
    /// The Community ID flow hash (v1, seed 0).
    #[serde(default)]
    pub community_id: String,
    /// The client address.
    #[serde(default)]
    pub src_ip: String,
    /// The client port.
    #[serde(default)]
    pub src_port: u16,
    /// The server address.
    #[serde(default)]
    pub dest_ip: String,
    /// The server port.
    #[serde(default)]
    pub dest_port: u16,
    /// The IP tunnel the client's packets came through; omitted without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<ShownTunnel>,
    /// The TLS connection the request was decrypted from; omitted for plaintext.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ShownTls>,
    /// The HTTP/2 stream identifier; omitted for HTTP/1.x.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<u32>,
    /// A request the server promised (HTTP/2 PUSH_PROMISE), not one the
    /// client sent; omitted otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pushed: bool,
    /// Of a pushed request: the client's stream the promise came on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_stream_id: Option<u32>,
    /// The request's body, when one was read; omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<ShownBody>,
    /// Only in the output of `scan --shard`: where one unsharded scan would
    /// have written the request (input number, completing packet index,
    /// sweep phase, flow), so `merge` interleaves the parts exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<[u64; 4]>,
    /// Capture time, for the tallies.
    #[serde(skip)]
    pub(crate) at: Timestamp,
}

impl Shown {
    /// The destination host: the Host header, else the server address.
    pub fn destination(&self) -> &str {
        self.host.as_deref().unwrap_or(&self.dst)
    }

    /// Capture time, parsed back from `ts` when the request came from a shard.
    pub(crate) fn restore_time(&mut self) -> bool {
        match parse_rfc3339(&self.ts) {
            Some(t) => {
                self.at = t;
                true
            }
            None => false,
        }
    }
}

/// The masked (or, with `show_numbers`, clear) view of a finding, and for
/// each leak its clear subject (the E.164 number, else the text found), or
/// its pseudonym when a subject key is given. Every finding of the request,
/// including those below the minimum confidence, is masked everywhere it
/// shows.
pub(crate) fn show(
    finding: &Finding,
    opts: &ReportOptions,
    provenance: &Provenance,
    key: Option<&SubjectKey>,
) -> (Shown, Vec<String>) {
    let r = &finding.request;
    let all: Vec<&Leak> = finding.all_leaks().collect();
    let mask = |text: &str, place: Place| {
        if opts.show_numbers || all.is_empty() {
            text.to_string()
        } else {
            mask_text(text, place, &all)
        }
    };
    let uri = mask(&r.uri, Place::Target);
    let headers: Vec<(String, String)> = r
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.name.clone(), mask(&h.value, Place::Header(i))))
        .collect();
    let mut subjects = Vec::with_capacity(finding.leaks.len());
    let leaks = finding
        .leaks
        .iter()
        .map(|leak| {
            let value = match leak.place {
                Place::Target => uri.clone(),
                Place::Header(i) => headers.get(i).map(|(_, v)| v.clone()).unwrap_or_default(),
                Place::Body(_) => around(&mask(leak.text_in(r), leak.place), &leak.span),
            };
            let clear = leak
                .number
                .as_ref()
                .map_or_else(|| found_text(finding, leak, true), |n| n.e164());
            let subject = key.map(|k| k.pseudonym(&clear));
            subjects.push(subject.clone().unwrap_or(clear));
            ShownLeak {
                header: leak.place_name(&r.headers).to_string(),
                found: found_text(finding, leak, opts.show_numbers),
                value,
                number: leak.number.as_ref().map(|n| {
                    if opts.show_numbers {
                        n.e164()
                    } else {
                        n.masked()
                    }
                }),
                kind: leak.kind.as_str().to_string(),
                confidence: leak.confidence.as_str().to_string(),
                location: leak.location.as_str().to_string(),
                key: leak.key_in(r).map(str::to_string),
                form: leak.form.map(|f| f.as_str().to_string()),
                encoding: leak.encoding.map(|e| e.as_str().to_string()),
                in_baseline: None,
                subject,
            }
        })
        .collect();
    let packet = match finding.order.completed_at {
        u64::MAX => None,
        i => Some(i.saturating_add(1)),
    };
    let (src_ip, src) = addr_texts(r.client);
    let (dest_ip, dst) = addr_texts(r.server);
    let shown = Shown {
        ts: r.ts.rfc3339().to_string(),
        src,
        dst,
        method: r.method.clone(),
        uri,
        version: r.version.clone(),
        host: r.host().map(str::to_string),
        headers,
        leaks,
        truncated: r.truncated,
        file: provenance.file.clone(),
        packet,
        // The flow stage's id (the creating packet's number in its input).
        flow_id: r.flow_id,
        community_id: community_id(r.client, r.server, 6),
        src_ip,
        src_port: r.client.port(),
        dest_ip,
        dest_port: r.server.port(),
        tunnel: r.tunnel.as_ref().map(ShownTunnel::of),
        tls: r.tls.as_ref().map(ShownTls::of),
        stream_id: r.stream_id,
        pushed: r.pushed_on.is_some(),
        associated_stream_id: r.pushed_on,
        body: r.body.as_deref().map(|b| {
            let leaks_in_body = all.iter().any(|l| matches!(l.place, Place::Body(_)));
            ShownBody::of(b, leaks_in_body && !opts.show_numbers)
        }),
        order: provenance.shard_input.map(|input| {
            let o = &finding.order;
            [input, o.completed_at, u64::from(o.phase), o.flow]
        }),
        at: r.ts,
    };
    (shown, subjects)
}

/// `address` and `address:port` of a socket address, as `Display` writes
/// them, the address formatted once and IPv4 by hand (std's formatting of
/// addresses was a sixth of the cost of a JSON line).
fn addr_texts(a: SocketAddr) -> (String, String) {
    let SocketAddr::V4(v4) = a else {
        return (a.ip().to_string(), a.to_string());
    };
    let mut ip = String::with_capacity(15);
    for (i, octet) in v4.ip().octets().into_iter().enumerate() {
        if i > 0 {
            ip.push('.');
        }
        push_decimal(&mut ip, octet.into());
    }
    let mut full = String::with_capacity(ip.len() + 6);
    full.push_str(&ip);
    full.push(':');
    push_decimal(&mut full, a.port());
    (ip, full)
}

/// Appends `n` in decimal.
fn push_decimal(s: &mut String, n: u16) {
    let n = u32::from(n);
    let mut started = false;
    for unit in [10_000, 1000, 100, 10, 1] {
        let digit = (n / unit % 10) as u8;
        if started || digit != 0 || unit == 1 {
            s.push(char::from(b'0' + digit));
            started = true;
        }
    }
}

/// Reads back [`Timestamp::rfc3339`]'s form: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub(crate) fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let bytes = s.as_bytes();
    let sep = |i: usize, c: u8| bytes.get(i) == Some(&c);
    if s.len() != 27
        || !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':'))
        || !(sep(16, b':') && sep(19, b'.') && sep(26, b'Z'))
    {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, us) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..26)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(Timestamp::from_parts(secs, (us * 1000) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc3339_round_trips_known_times() {
        for (secs, nanos) in [
            (0, 0),
            (1_327_485_600, 123_456_000),
            (951_782_400, 999_999_000),
        ] {
            let t = Timestamp::from_parts(secs, nanos);
            assert_eq!(parse_rfc3339(&t.rfc3339().to_string()), Some(t));
        }
        assert_eq!(parse_rfc3339("2012-01-25T10:00:05Z"), None);
        assert_eq!(parse_rfc3339("2012-13-25T10:00:05.000000Z"), None);
        assert_eq!(parse_rfc3339("２０１２-01-25T10:00:05.000000Z"), None);
    }

    proptest! {
        #[test]
        fn addresses_are_written_as_display_writes_them(
            v4 in any::<[u8; 4]>(),
            v6 in any::<[u16; 8]>(),
            port in any::<u16>(),
        ) {
            for a in [
                SocketAddr::from((v4, port)),
                SocketAddr::from((std::net::Ipv6Addr::from(v6), port)),
            ] {
                prop_assert_eq!(addr_texts(a), (a.ip().to_string(), a.to_string()));
            }
        }

        #[test]
        fn rfc3339_round_trips(secs in 0i64..9_000_000_000, micros in 0u32..1_000_000) {
            let t = Timestamp::from_parts(secs, micros * 1000);
            prop_assert_eq!(parse_rfc3339(&t.rfc3339().to_string()), Some(t));
        }
    }
}
