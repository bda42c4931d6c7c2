//! The request extractor (`http::RequestStream`) on arbitrary streams: the
//! input is cut into chunks at 0xFF bytes; a chunk starting with 0xFE is a
//! gap of its length instead of data. Partial heads stay under the limit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::http::{HttpStats, RequestStream, parse_head};
use phoneleak::time::Timestamp;

fuzz_target!(|data: &[u8]| {
    let max = 512;
    for start in [true, false] {
        let mut stream = RequestStream::new(start);
        let mut stats = HttpStats::default();
        let mut out = Vec::new();
        for chunk in data.split(|b| *b == 0xff) {
            match chunk {
                [0xfe, rest @ ..] => {
                    stream.gap(rest.len() as u64, &mut stats, &mut out);
                }
                bytes => {
                    stream.data(Timestamp(0), bytes, max, &mut stats, &mut out);
                }
            }
            assert!(stream.buffered() <= max + 8192);
        }
        stream.end(&mut stats, &mut out);
    }
    let _ = parse_head(data);
});
