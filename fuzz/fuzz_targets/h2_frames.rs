//! The HTTP/2 frame reader and the H2 layer on arbitrary client streams: the
//! input (after the connection preface, which is prepended) is cut into
//! chunks at 0xFF bytes; a chunk starting with 0xFE is a gap of its length.
//! Content pieces never pass their frame's length, and a header block held
//! stays under the limit, and so do the bodies held (one connection's room
//! is shared by all its open uploads).
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::h2::frames::{FrameReader, Piece};
use phoneleak::h2::{H2Feed, H2Layer, H2Stats, PREFACE};
use phoneleak::http::HttpStats;
use phoneleak::time::Timestamp;

fuzz_target!(|data: &[u8]| {
    let mut reader = FrameReader::new();
    let (mut len, mut seen) = (0u64, 0u64);
    let mut layer = H2Layer::new(false);
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
        match chunk {
            [0xfe, rest @ ..] => {
                let _ = reader.gap(rest.len() as u64);
                layer.gap(rest.len() as u64, &mut feed);
            }
            bytes => {
                let _ = reader.feed(bytes, &mut |p| match p {
                    Piece::Start(h) => (len, seen) = (u64::from(h.len), 0),
                    Piece::Content(c) => {
                        seen += c.len() as u64;
                        assert!(seen <= len);
                    }
                    Piece::End(..) => {}
                });
                layer.data(Timestamp(0), bytes, &mut feed);
            }
        }
        assert!(layer.buffered() <= 512 + 64);
        assert!(layer.body_held() <= 1024);
    }
    layer.end(&mut feed);
});
