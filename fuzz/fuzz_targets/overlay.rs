//! UDP overlay tunnels (Geneve, VXLAN on both ports, VXLAN-GPE, AYIYA, GRE
//! over UDP, GTP-U): the first byte picks the port, the rest is the UDP
//! payload inside a fixed IPv4/UDP header, decoded as a raw IP frame.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::capture::LinkType;
use phoneleak::decode;

const PORTS: [u16; 7] = [6081, 4789, 8472, 4790, 5072, 4754, 2152];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let port = PORTS[usize::from(pick) % PORTS.len()];
    let udp_len = (8 + payload.len()).min(usize::from(u16::MAX)) as u16;
    let total = (28 + payload.len()).min(usize::from(u16::MAX)) as u16;
    let mut frame = vec![0x45, 0];
    frame.extend_from_slice(&total.to_be_bytes());
    frame.extend_from_slice(&[0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]);
    // Source port: the tunnel's own when the pick's high bit is set (AYIYA, GTP-U replies).
    let src = if pick & 0x80 != 0 { port } else { 40000 };
    frame.extend_from_slice(&src.to_be_bytes());
    frame.extend_from_slice(&port.to_be_bytes());
    frame.extend_from_slice(&udp_len.to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(payload);
    if let Ok(seg) = decode::decode(LinkType::RAW, &frame) {
        assert!(seg.payload.len() <= payload.len());
    }
});
