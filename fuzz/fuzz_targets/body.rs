//! Request bodies: the bounded decoders and the parsers by content type,
//! then detection and masking over the fields. The first byte picks the
//! content type (low nibble) and the coding (high nibble); its top bit
//! says whether the body was read whole. Decoded output stays within the
//! limit, fields within their cap, spans inside their texts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::body::{BodyStats, RawBody, decode, parse, read_body};
use phoneleak::detect::{Detector, mask_text};
use phoneleak::http::{Header, Request};

const TYPES: [&str; 8] = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b",
    "text/xml",
    "text/plain",
    "",
    "application/vnd.api+json",
    "multipart/form-data",
];
const CODINGS: [&str; 8] = ["", "gzip", "deflate", "br", "zstd", "gzip, br", "identity", "x"];
const LIMIT: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&select, bytes)) = data.split_first() else {
        return;
    };
    let content_type = TYPES[usize::from(select & 7)];
    let coding = CODINGS[usize::from((select >> 4) & 7)];
    let whole = select & 0x80 == 0;
    if let Ok(d) = decode::decode_all(coding, bytes, LIMIT) {
        assert!(d.bytes.len() <= LIMIT);
    }
    let mut fields = Vec::new();
    parse::parse(content_type, bytes, whole, &mut fields);
    assert!(fields.len() <= parse::MAX_FIELDS);
    let mut headers = vec![Header {
        name: "Content-Type".into(),
        value: content_type.into(),
    }];
    if !coding.is_empty() {
        headers.push(Header {
            name: "Content-Encoding".into(),
            value: coding.into(),
        });
    }
    let raw = RawBody {
        bytes: bytes.to_vec(),
        seen: bytes.len() as u64,
        complete: whole,
        ..RawBody::default()
    };
    let body = read_body(raw, &headers, LIMIT, &mut BodyStats::default());
    let request = Request {
        ts: phoneleak::time::Timestamp(0),
        client: "10.0.0.1:40000".parse().unwrap(),
        server: "10.0.0.2:80".parse().unwrap(),
        flow_id: 1,
        method: "POST".into(),
        uri: "/".into(),
        version: "HTTP/1.1".into(),
        headers,
        truncated: false,
        flow_order: (0, 1),
        tunnel: None,
        tls: None,
        stream_id: None,
        pushed_on: None,
        authority: None,
        answer_awaited: false,
        body: Some(Box::new(body)),
    };
    let leaks = Detector::new().inspect(&request);
    let all: Vec<_> = leaks.iter().collect();
    for leak in &leaks {
        let text = leak.text_in(&request);
        assert!(text.get(leak.span.clone()).is_some());
        let _ = leak.key_in(&request);
        let _ = mask_text(text, leak.place, &all);
    }
});
