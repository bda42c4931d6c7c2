//! The detector and masking on arbitrary header lines (`name: value` per
//! line; lines without a colon become a header with an empty value).
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::detect::{Detector, mask_value};
use phoneleak::http::Header;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let headers: Vec<Header> = text
        .lines()
        .map(|l| match l.split_once(':') {
            Some((n, v)) => Header {
                name: n.to_string(),
                value: v.trim().to_string(),
            },
            None => Header {
                name: l.to_string(),
                value: String::new(),
            },
        })
        .collect();
    let detector = Detector::new();
    for leak in detector.inspect(&headers) {
        let header = &headers[leak.header_index];
        let _ = mask_value(&header.value, leak.number.as_ref());
        if let Some(n) = &leak.number {
            let _ = (n.masked(), n.e164());
        }
    }
});
