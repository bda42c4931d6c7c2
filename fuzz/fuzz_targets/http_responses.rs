//! The HTTP/1 response reader (`http::ResponseStream`) on arbitrary server
//! streams: the input is cut into chunks at 0xFF bytes; a chunk starting
//! with 0xFE is a gap of its length, one starting with 0xFD a request sent
//! (HEAD if its second byte is odd, CONNECT if it is 2 modulo 4, else GET).
//! Answers come in request order, never more than were asked; the partial
//! head stays under its limit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::http::{HttpStats, ResponseStream};
use phoneleak::time::Timestamp;

fuzz_target!(|data: &[u8]| {
    let max = 512;
    let mut s = ResponseStream::new();
    let mut stats = HttpStats::default();
    let mut out = Vec::new();
    let mut asked = 0u64;
    for chunk in data.split(|b| *b == 0xff) {
        match chunk {
            [0xfe, rest @ ..] => s.gap(rest.len() as u64, &mut stats),
            [0xfd, rest @ ..] => {
                let method = match rest.first().map(|b| b % 4) {
                    Some(1 | 3) => "HEAD",
                    Some(2) => "CONNECT",
                    _ => "GET",
                };
                asked += 1;
                s.expect(asked, method, &mut stats);
            }
            bytes => s.data(Timestamp(0), bytes, max, &mut stats, &mut out),
        }
        assert!(s.buffered() <= 2 * max.max(8 << 10));
    }
    assert!(out.len() as u64 <= asked);
    assert!(out.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(out.iter().all(|a| a.seq >= 1 && a.seq <= asked));
});
