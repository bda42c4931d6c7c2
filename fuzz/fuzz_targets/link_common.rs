//! Shared by the per-link-type decode targets: the input as one frame of the
//! link type (without reassembly), then as a sequence `[length][frame]...`
//! through a decoder with small reassembly limits. A segment's payload always
//! lies inside its frame or the reassembled datagram; held memory stays
//! under the cap.
use phoneleak::capture::LinkType;
use phoneleak::decode::{self, Decoder, DefragLimits};
use phoneleak::time::Timestamp;

pub fn check(link: LinkType, data: &[u8]) {
    if let Ok(seg) = decode::decode(link, data) {
        let range = data.as_ptr_range();
        assert!(range.contains(&seg.payload.as_ptr()) || seg.payload.is_empty());
        assert!(seg.payload.len() <= data.len());
    }
    let limits = DefragLimits {
        memcap: 64 << 10,
        max_fragments: 16,
        timeout_secs: 2,
    };
    let mut decoder = Decoder::new(limits);
    let mut rest = data;
    let mut secs = 0i64;
    while let [len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (frame, next) = tail.split_at(n);
        rest = next;
        secs += i64::from(*len % 3);
        if let Ok(seg) = decoder.decode(Timestamp::from_parts(secs, 0), link, frame) {
            assert!(seg.payload.len() <= 65_535 + 64);
        }
        assert!(decoder.held_fragment_bytes() <= limits.memcap);
    }
}
