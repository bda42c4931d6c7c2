//! The decoder (with fragment reassembly) on a sequence of arbitrary frames:
//! `[link index][length][frame]...`. Every segment's payload lies inside its
//! frame or the reassembled datagram, and memory held for fragments stays
//! under the cap.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::capture::LinkType;
use phoneleak::decode::{self, Decoder, DefragLimits};
use phoneleak::time::Timestamp;

const LINKS: [u16; 15] = [1, 0, 12, 14, 101, 108, 113, 228, 229, 276, 104, 105, 127, 129, 239];

fuzz_target!(|data: &[u8]| {
    let limits = DefragLimits {
        memcap: 64 << 10,
        max_fragments: 16,
        timeout_secs: 2,
    };
    let mut decoder = Decoder::new(limits);
    let mut rest = data;
    let mut secs = 0i64;
    while let [link, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (frame, next) = tail.split_at(n);
        rest = next;
        let link = LinkType(LINKS[usize::from(*link) % LINKS.len()]);
        secs += i64::from(*len % 3);
        let _ = decode::decode(link, frame);
        if let Ok(seg) = decoder.decode(Timestamp::from_parts(secs, 0), link, frame) {
            assert!(seg.payload.len() <= 65_535 + 64);
        }
        assert!(decoder.held_fragment_bytes() <= limits.memcap);
    }
    // The whole input as one Ethernet frame, too.
    let _ = decode::decode(LinkType::ETHERNET, data);
});
