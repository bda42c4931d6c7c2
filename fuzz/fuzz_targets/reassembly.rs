//! The flow table and TCP reassembler fed arbitrary segment sequences (with
//! the HTTP extractor behind it), under small limits so that every cap is hit.
//! Each 8-byte op: flags, endpoint pair, sequence (2 bytes, scaled), ack
//! (2 bytes), payload length, time step; then the payload bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::decode::{TcpFlags, TcpSegment};
use phoneleak::flow::{FlowTable, Limits};
use phoneleak::http::HttpLimits;
use phoneleak::stack::{Extractor, StackLimits};
use phoneleak::time::Timestamp;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_flows: 4,
        idle_timeout_secs: 30,
        max_ooo_per_direction: 512,
        ooo_memcap: 1024,
        max_window: 1 << 20,
    };
    let mut table = FlowTable::new(limits);
    let mut http = Extractor::new(
        StackLimits {
            http: HttpLimits {
                max_head_bytes: 256,
                head_memcap: 1024,
                max_body_bytes: 512,
                body_memcap: 2048,
            },
            tls_held_memcap: 1 << 20,
            ..StackLimits::default()
        },
        Default::default(),
    );
    let endpoints: [std::net::SocketAddr; 4] = [
        "10.0.0.1:1000".parse().unwrap(),
        "10.0.0.2:80".parse().unwrap(),
        "10.0.0.3:1001".parse().unwrap(),
        "[2001:db8::1]:80".parse().unwrap(),
    ];
    let mut rest = data;
    let mut secs = 0i64;
    let mut index = 0u64;
    while rest.len() >= 8 {
        let (op, tail) = rest.split_at(8);
        let flags = op[0];
        let pair = op[1];
        let seq = u32::from(u16::from_be_bytes([op[2], op[3]])).wrapping_mul(u32::from(op[1] | 1));
        let ack = u32::from(u16::from_be_bytes([op[4], op[5]]));
        let n = usize::from(op[6]).min(tail.len());
        secs += i64::from(op[7] % 8);
        let (payload, next) = tail.split_at(n);
        rest = next;
        let seg = TcpSegment {
            src: endpoints[usize::from(pair & 3)],
            dst: endpoints[usize::from((pair >> 2) & 3)],
            seq,
            ack,
            flags: TcpFlags {
                syn: flags & 1 != 0,
                ack: flags & 2 != 0,
                fin: flags & 4 != 0,
                rst: flags & 8 != 0,
            },
            payload,
            missing: if flags & 16 != 0 { u32::from(op[6]) } else { 0 },
            tunnel: None,
        };
        table.process(index, Timestamp::from_parts(secs, 0), &seg, &mut http);
        index += 1;
        assert!(table.len() <= limits.max_flows);
        assert!(table.buffered_bytes() <= limits.ooo_memcap + 255);
        http.take_requests().for_each(drop);
    }
    table.flush_all(&mut http);
    assert_eq!(table.buffered_bytes(), 0);
    http.take_requests().for_each(drop);
});
