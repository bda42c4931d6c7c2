//! The client stream stack (`stack::ClientStack`: SOCKS, CONNECT tunnels,
//! the HTTP/1 `RequestStream`, HTTP/2) on arbitrary streams: the input is cut into
//! chunks at 0xFF bytes; a chunk starting with 0xFE is a gap of its length
//! instead of data. Partial heads and bodies stay under their limits.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::h2::H2Stats;
use phoneleak::http::{HttpStats, parse_head};
use phoneleak::stack::{ClientStack, Feed};
use phoneleak::time::Timestamp;
use phoneleak::tls::{KeyLog, TlsLimits, TlsStats};

fuzz_target!(|data: &[u8]| {
    let max = 512;
    for start in [true, false] {
        let mut stack = ClientStack::new(start);
        let mut stats = HttpStats::default();
        let mut out = Vec::new();
        let (keys, mut tls) = (KeyLog::new(), TlsStats::default());
        let mut h2 = H2Stats::default();
        let limits = TlsLimits::default();
        let mut feed = Feed {
            max_head: max,
            body_room: 300,
            body_limit: 256,
            http: &mut stats,
            tls_limits: &limits,
            keys: &keys,
            tls: &mut tls,
            h2: &mut h2,
            out: &mut out,
            read_responses: false,
            published: 0,
            answers: &mut Vec::new(),
        };
        for chunk in data.split(|b| *b == 0xff) {
            match chunk {
                [0xfe, rest @ ..] => {
                    stack.gap(rest.len() as u64, &mut feed);
                }
                bytes => {
                    stack.data(Timestamp(0), bytes, &mut feed);
                }
            }
            assert!(stack.buffered() <= max + 8192);
            assert!(stack.body_held() <= 256);
        }
        stack.end(&mut feed);
    }
    let _ = parse_head(data);
});
