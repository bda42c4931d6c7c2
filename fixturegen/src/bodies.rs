//! Request bodies: each body type and content coding the analyzer reads,
//! chunked + gzip, a decompression bomb, a binary body, and a body split
//! over many segments with one missing.
use std::io::Write;

use super::Fixture;
use super::http::{Req, UA_ANDROID, html};
use super::scenarios::{MSISDN, T0, eth_pcap, fixture};
use super::tcp::{Conversation, Trace};

/// gzip of `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Raw deflate (no zlib wrapper) of `data`, as some clients send `deflate`.
pub fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// zlib-wrapped deflate of `data` (RFC 9110's `deflate`).
pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// zstd of `data`.
pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}

/// A brotli stream of `data` in uncompressed meta-blocks (RFC 7932 §9.2:
/// WBITS 16, then per block ISLAST 0, MNIBBLES 4, MLEN-1, ISUNCOMPRESSED 1,
/// byte-aligned data; an empty last meta-block).
pub fn brotli_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, block) in data.chunks(1 << 16).enumerate() {
        let mlen = block.len() as u32 - 1;
        // The first block carries the one WBITS bit (0: a 16-bit window).
        let (header, bits) = if i == 0 {
            ((mlen << 4) | (1 << 20), 21)
        } else {
            ((mlen << 3) | (1 << 19), 20)
        };
        let bytes = header.to_le_bytes();
        out.extend_from_slice(&bytes[..(bits as usize).div_ceil(8)]);
        out.extend_from_slice(block);
    }
    out.push(0x03);
    out
}

/// A chunked body of `data` in chunks of `size`.
fn chunked(data: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for c in data.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn post(uri: &str, content_type: &str) -> Req {
    Req::new("POST", uri)
        .h("Host", "api.example.net")
        .h("User-Agent", UA_ANDROID)
        .h("Content-Type", content_type)
}

pub fn request_bodies() -> Fixture {
    let mut t = Trace::new(T0 + 90_000, 0);
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.40:52000",
        "198.51.100.80:80",
        0x0a0a_0000,
        0x0b0b_0000,
    );
    c.handshake(&mut t);
    let form = format!("to=%2B{MSISDN}&msg=see+you+at+8&lang=en");
    let r = post("/sms/send", "application/x-www-form-urlencoded")
        .body(form.as_bytes())
        .body_leaks();
    c.exchange(&mut t, &r, "Sent");
    let json = format!(
        r#"{{"user":{{"name":"Ann","phone":"{MSISDN}"}},"device":{{"os":"android","build":1234}}}}"#
    );
    let r = post("/v1/profile", "application/json; charset=utf-8")
        .body(json.as_bytes())
        .body_leaks();
    c.exchange(&mut t, &r, "Profile");
    // A JSON number, gzip-compressed, sent chunked.
    let json = format!(r#"{{"event":"login","msisdn":{MSISDN},"ok":true}}"#);
    let r = post("/v1/events", "application/json")
        .h("Content-Encoding", "gzip")
        .h("Transfer-Encoding", "chunked")
        .raw_body(&chunked(&gzip(json.as_bytes()), 7))
        .body_leaks();
    c.exchange(&mut t, &r, "Events");
    let boundary = "----formBoundary7MA4YWxkTrZu0gW";
    let multi = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"mobile\"\r\n\r\n+{MSISDN}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n\x01\x02binary\r\n--{boundary}--\r\n"
    );
    let r = post(
        "/v1/signup",
        &format!("multipart/form-data; boundary={boundary}"),
    )
    .body(multi.as_bytes())
    .body_leaks();
    c.exchange(&mut t, &r, "Signed up");
    let xml = format!(
        "<?xml version=\"1.0\"?><request><subscriber><msisdn>{MSISDN}</msisdn></subscriber></request>"
    );
    let r = post("/soap/lookup", "text/xml")
        .h("Content-Encoding", "deflate")
        .body(&raw_deflate(xml.as_bytes()))
        .body_leaks();
    c.exchange(&mut t, &r, "Looked up");
    let r = post("/v1/contact", "application/x-www-form-urlencoded")
        .h("Content-Encoding", "br")
        .body(&brotli_stored(
            format!("callback_phone={MSISDN}&x=1").as_bytes(),
        ))
        .body_leaks();
    c.exchange(&mut t, &r, "Contact");
    let r = post("/v1/sync", "application/json")
        .h("Content-Encoding", "zstd")
        .body(&zstd(br#"[{"tel":"+44 7700 900123"}]"#))
        .body_leaks();
    c.exchange(&mut t, &r, "Synced");
    let text = format!("Please call me back on +{MSISDN} after six.");
    let r = post("/feedback", "text/plain")
        .body(text.as_bytes())
        .body_leaks();
    c.exchange(&mut t, &r, "Thanks");
    // The number bare under a key that says nothing: only --number finds it.
    let r = post("/v1/prefs", "application/json")
        .h("Content-Encoding", "deflate")
        .body(&zlib(format!(r#"{{"ref":"{MSISDN}"}}"#).as_bytes()))
        .body_known();
    c.exchange(&mut t, &r, "Prefs");
    // Binary: not read.
    let r = post("/upload", "application/octet-stream").body(format!("phone=+{MSISDN}").as_bytes());
    c.exchange(&mut t, &r, "Uploaded");
    // A decompression bomb: 40 MiB of zeros after the number, 40 KiB on the wire.
    let mut bomb = format!(r#"{{"phone":"+{MSISDN}","pad":""#).into_bytes();
    bomb.resize(40 << 20, b'0');
    bomb.extend_from_slice(b"\"}");
    let r = post("/v1/bomb", "application/json")
        .h("Content-Encoding", "gzip")
        .body(&gzip(&bomb))
        .body_leaks();
    c.exchange(&mut t, &r, "Bomb");
    c.fin_close(&mut t);

    // A form body in many segments, one missing (never retransmitted): the
    // number comes before the gap.
    let mut d = Conversation::new(
        &mut t,
        "10.0.0.40:52001",
        "198.51.100.80:80",
        0x0c0c_0000,
        0x0d0d_0000,
    );
    d.handshake(&mut t);
    let mut body = format!("msisdn={MSISDN}&notes=").into_bytes();
    body.extend(std::iter::repeat_n(b'a', 3000));
    let r = post("/v1/upload-form", "application/x-www-form-urlencoded")
        .body(&body)
        .body_leaks();
    let head = r.head_bytes().len();
    d.note_next(&mut t, &r);
    let mut sizes = vec![head];
    sizes.extend(std::iter::repeat_n(150, 20));
    let segs = d.split(true, &r.bytes(), &sizes);
    for (i, s) in segs.iter().enumerate() {
        if i != 5 {
            d.emit(&mut t, s);
        }
        t.advance_us(1_000);
    }
    d.ack(&mut t, false);
    let b = html(t.now_ns, "Uploaded");
    d.respond(&mut t, &b);
    let after = Req::get("/v1/after", "api.example.net").h("User-Agent", UA_ANDROID);
    d.exchange(&mut t, &after, "After");
    d.fin_close(&mut t);
    fixture(
        "request-bodies.pcap",
        &t,
        eth_pcap(&t),
        "Request bodies carrying the number: a form (to=%2B...), JSON (a string under /user/phone), gzip JSON sent chunked (a JSON number under /msisdn), multipart (a field and a PNG file part), raw-deflate XML, brotli form, zstd JSON array, a plain text; a zlib JSON with the number bare under a key that says nothing (--number only); an octet-stream body (not read); a gzip bomb (40 MiB of zeros after the number); on a second connection a form body in 21 segments of which the 6th is missing.",
        "Every POST but /upload and /v1/prefs leaks in its body, as (request-body) with where=body and the key path; /v1/prefs leaks only with --number. The bomb is decoded up to --max-body-bytes (counted in body.decoded_over_limit); the body with a gap keeps what came before (body.gaps) and the next request follows.",
    )
}
