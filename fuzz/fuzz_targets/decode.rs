//! The decoder (with fragment reassembly) on a sequence of arbitrary frames:
//! `[link index][length][frame]...`. Every segment's payload lies inside its
//! frame or the reassembled datagram, and memory held for fragments stays
//! under the cap. The parallel reader's router, fed the same frames, yields a
//! routing key exactly when the decoder yields a segment, for the same
//! segment, and the key is the flow table's (the same in both directions).
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::capture::{LinkType, Packet};
use phoneleak::decode::{self, Decoder, DefragLimits};
use phoneleak::flow::FlowKey;
use phoneleak::pipeline::parallel::Router;
use phoneleak::time::Timestamp;

/// Workers the router shards over.
const WORKERS: usize = 3;

const LINKS: [u16; 15] = [1, 0, 12, 14, 101, 108, 113, 228, 229, 276, 104, 105, 127, 129, 239];

fuzz_target!(|data: &[u8]| {
    let limits = DefragLimits {
        memcap: 64 << 10,
        max_fragments: 16,
        timeout_secs: 2,
    };
    let mut decoder = Decoder::new(limits);
    let mut router = Router::new(limits, WORKERS);
    let mut rest = data;
    let mut secs = 0i64;
    while let [link, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (frame, next) = tail.split_at(n);
        rest = next;
        let link = LinkType(LINKS[usize::from(*link) % LINKS.len()]);
        secs += i64::from(*len % 3);
        let _ = decode::decode(link, frame);
        let ts = Timestamp::from_parts(secs, 0);
        let packet = Packet {
            ts,
            link,
            orig_len: u32::try_from(frame.len()).unwrap_or(u32::MAX),
            data: frame,
        };
        let decoded = decoder.decode(ts, link, frame);
        let routed = router.route(&packet).segment;
        match (&decoded, &routed) {
            (Ok(seg), Some((worker, routed_seg))) => {
                assert!(seg.payload.len() <= 65_535 + 64);
                assert_eq!(seg, routed_seg, "the router decodes as the decoder does");
                let (key, _) = FlowKey::of(seg.src, seg.dst);
                assert_eq!(key, FlowKey::of(seg.dst, seg.src).0, "one key per connection");
                assert_eq!(*worker, key.shard(WORKERS), "routed by the flow key");
                assert!(*worker < WORKERS);
            }
            (Err(_), None) => {}
            _ => panic!("decoder {decoded:?} and router {routed:?} disagree"),
        }
        assert!(decoder.held_fragment_bytes() <= limits.memcap);
    }
    // The whole input as one Ethernet frame, too.
    let _ = decode::decode(LinkType::ETHERNET, data);
});
