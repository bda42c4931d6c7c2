//! The HTTP/2 frame reader and the H2 layer on arbitrary streams of both
//! directions: the input's first byte picks the server's start (its frames,
//! or an upgrade's 101 response first); the rest (after the client's
//! connection preface, which is prepended) is cut into chunks at 0xFF
//! bytes; a chunk starting with 0xFE is a client gap of its length, 0xFD
//! the server's bytes, 0xFC a server gap. Content pieces never pass their
//! frame's length, header blocks held (both sides) stay under the limit,
//! and so do the bodies held (one connection's room is shared by all its
//! open uploads); requests a server promised are marked so, on a client's
//! stream, and come only from the server's bytes (or, cut, from the end of
//! a layer whose client stream was lost).
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::h2::frames::{FrameReader, Piece};
use phoneleak::h2::{H2Feed, H2Layer, H2Stats, PREFACE, ServerSide};
use phoneleak::http::HttpStats;
use phoneleak::time::Timestamp;

fuzz_target!(|data: &[u8]| {
    let Some((&first, data)) = data.split_first() else {
        return;
    };
    let mut reader = FrameReader::new();
    let (mut len, mut seen) = (0u64, 0u64);
    let mut layer = H2Layer::with_server(false, Box::new(ServerSide::new(first & 1 == 1)));
    let (mut h2, mut http, mut out) = (H2Stats::default(), HttpStats::default(), Vec::new());
    let mut feed = H2Feed {
        max_head: 512,
        h2: &mut h2,
        http: &mut http,
        body_room: 1024,
        body_limit: 1024,
        out: &mut out,
    };
    layer.data(Timestamp(0), PREFACE, &mut feed);
    for chunk in data.split(|b| *b == 0xff) {
        let before = feed.out.len();
        let server = matches!(chunk, [0xfd | 0xfc, ..]);
        match chunk {
            [0xfe, rest @ ..] => {
                let _ = reader.gap(rest.len() as u64);
                layer.gap(rest.len() as u64, &mut feed);
            }
            [0xfd, rest @ ..] => layer.server_data(Timestamp(1), rest, &mut feed),
            [0xfc, rest @ ..] => layer.server_gap(rest.len() as u64, &mut feed),
            bytes => {
                let _ = reader.feed(bytes, &mut |p| match p {
                    Piece::Start(h) => (len, seen) = (u64::from(h.len), 0),
                    Piece::Content(c) => {
                        seen += c.len() as u64;
                        assert!(seen <= len);
                    }
                    Piece::Promised(_) | Piece::End(..) => {}
                });
                layer.data(Timestamp(0), bytes, &mut feed);
            }
        }
        // Two header blocks at most (one per direction), each within the limit.
        assert!(layer.buffered() <= 2 * (512 + 64));
        assert!(layer.body_held() <= 1024);
        for r in &feed.out[before..] {
            if let Some(on) = r.pushed_on {
                // From the server's bytes, or a promise cut short when the
                // client's stream was lost (which ends the layer).
                assert!(
                    server || (layer.is_stopped() && r.truncated),
                    "a promise from the client's bytes"
                );
                assert!(on % 2 == 1 && r.stream_id.is_none_or(|s| s % 2 == 0));
            }
        }
    }
    layer.end(&mut feed);
});
