//! The detector and masking on arbitrary header lines (`name: value` per
//! line; lines without a colon become a header with an empty value).
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::detect::{Detector, mask_text, mask_value};
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
    // The first line also serves as the request target.
    let uri = text.lines().next().unwrap_or("/");
    let detector = Detector::new();
    let leaks = detector.inspect_parts("GET", uri, &headers);
    let all: Vec<_> = leaks.iter().collect();
    for leak in &leaks {
        let text = leak.place_text(uri, &headers);
        // Spans lie inside the text they point into.
        assert!(text.get(leak.span.clone()).is_some(), "{leak:?}");
        let _ = mask_value(text, leak.number.as_ref());
        let _ = mask_text(text, leak.place, &all);
        let _ = (leak.place_name(&headers), leak.key_text(uri, &headers));
        if let Some(n) = &leak.number {
            let _ = (n.masked(), n.e164());
        }
    }
});
