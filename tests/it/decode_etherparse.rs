//! Property test: phoneleak's decoder against etherparse (an independent
//! implementation) on Ethernet frames with 0–2 VLAN tags, IPv4 (with
//! options) or IPv6 (with a hop-by-hop header), and TCP (with options).
//!
//! - whole frames: the same addresses, ports, numbers, flags and payload;
//! - frames cut anywhere: a segment only when its headers were captured, its
//!   payload a prefix of the real one and `missing` the rest;
//! - frames with bytes changed: whenever etherparse reads a whole,
//!   unfragmented TCP segment, the decoder reads the same one.
use etherparse::{
    IpHeaders, IpNumber, Ipv4Header, Ipv6Extensions, Ipv6Header, Ipv6RawExtHeader, NetSlice,
    PacketBuilder, SlicedPacket, TransportSlice, VlanId,
};
use phoneleak::capture::LinkType;
use phoneleak::decode::{self, Skip, TcpSegment};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    vlans: Vec<u16>,
    v6: bool,
    src: [u8; 16],
    dst: [u8; 16],
    ip_options: usize,
    hop_by_hop: bool,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    rst: bool,
    tcp_options: usize,
    payload: Vec<u8>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(1u16..4095, 0..=2),
        any::<bool>(),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        0usize..=10,
        any::<bool>(),
        (
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            any::<Option<u32>>(),
        ),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        0usize..=10,
        prop::collection::vec(any::<u8>(), 0..400),
    )
        .prop_map(
            |(
                vlans,
                v6,
                src,
                dst,
                ip_options,
                hop_by_hop,
                (sport, dport, seq, ack),
                (syn, fin, rst),
                tcp_options,
                payload,
            )| Case {
                vlans,
                v6,
                src,
                dst,
                ip_options,
                hop_by_hop,
                sport,
                dport,
                seq,
                ack,
                syn,
                fin,
                rst,
                tcp_options,
                payload,
            },
        )
}

fn build(c: &Case) -> Vec<u8> {
    let eth = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    let ip = if c.v6 {
        let header = Ipv6Header {
            hop_limit: 64,
            next_header: IpNumber::TCP,
            source: c.src,
            destination: c.dst,
            ..Default::default()
        };
        let mut exts = Ipv6Extensions::default();
        if c.hop_by_hop {
            exts.hop_by_hop_options =
                Some(Ipv6RawExtHeader::new_raw(IpNumber::TCP, &[1, 4, 0, 0, 0, 0]).unwrap());
        }
        IpHeaders::Ipv6(header, exts)
    } else {
        let src: [u8; 4] = c.src[..4].try_into().unwrap();
        let dst: [u8; 4] = c.dst[..4].try_into().unwrap();
        let mut header = Ipv4Header::new(0, 64, IpNumber::TCP, src, dst).unwrap();
        // No-operation options, then end of options, in whole 4-byte words.
        let mut options = vec![1u8; c.ip_options * 4];
        if let Some(last) = options.last_mut() {
            *last = 0;
        }
        header.options = options[..].try_into().unwrap();
        IpHeaders::Ipv4(header, Default::default())
    };
    let step = match c.vlans[..] {
        [] => eth.ip(ip),
        [v] => eth.single_vlan(VlanId::try_new(v).unwrap()).ip(ip),
        [o, i, ..] => eth
            .double_vlan(VlanId::try_new(o).unwrap(), VlanId::try_new(i).unwrap())
            .ip(ip),
    };
    let mut tcp = step.tcp(c.sport, c.dport, c.seq, 1000);
    if let Some(a) = c.ack {
        tcp = tcp.ack(a);
    }
    if c.syn {
        tcp = tcp.syn();
    }
    if c.fin {
        tcp = tcp.fin();
    }
    if c.rst {
        tcp = tcp.rst();
    }
    let tcp = tcp.options_raw(&vec![1u8; c.tcp_options * 4]).unwrap();
    let mut out = Vec::new();
    tcp.write(&mut out, &c.payload).unwrap();
    out
}

/// What etherparse reads: (src, dst, seq, ack, [syn, ack, fin, rst], payload).
type Reading<'a> = (
    std::net::SocketAddr,
    std::net::SocketAddr,
    u32,
    u32,
    [bool; 4],
    &'a [u8],
);

fn etherparse_reads(frame: &[u8]) -> Option<Reading<'_>> {
    let p = SlicedPacket::from_ethernet(frame).ok()?;
    let (src, dst) = match p.net.as_ref()? {
        NetSlice::Ipv4(ip) => {
            if ip.is_payload_fragmented() {
                return None;
            }
            (
                ip.header().source_addr().into(),
                ip.header().destination_addr().into(),
            )
        }
        NetSlice::Ipv6(ip) => {
            if ip.is_payload_fragmented() {
                return None;
            }
            (
                ip.header().source_addr().into(),
                ip.header().destination_addr().into(),
            )
        }
        NetSlice::Arp(_) => return None,
    };
    let TransportSlice::Tcp(tcp) = p.transport.as_ref()? else {
        return None;
    };
    Some((
        std::net::SocketAddr::new(src, tcp.source_port()),
        std::net::SocketAddr::new(dst, tcp.destination_port()),
        tcp.sequence_number(),
        tcp.acknowledgment_number(),
        [tcp.syn(), tcp.ack(), tcp.fin(), tcp.rst()],
        tcp.payload(),
    ))
}

fn ours(seg: &TcpSegment<'_>) -> Reading<'static> {
    (
        seg.src,
        seg.dst,
        seg.seq,
        seg.ack,
        [seg.flags.syn, seg.flags.ack, seg.flags.fin, seg.flags.rst],
        &[],
    )
}

fn same(seg: &TcpSegment<'_>, theirs: &Reading<'_>) -> bool {
    let mine = ours(seg);
    (mine.0, mine.1, mine.2, mine.3, mine.4) == (theirs.0, theirs.1, theirs.2, theirs.3, theirs.4)
        && seg.payload == theirs.5
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn whole_frames_read_as_etherparse_reads_them(c in case()) {
        let frame = build(&c);
        let theirs = etherparse_reads(&frame).expect("etherparse reads what it built");
        let seg = decode::decode(LinkType::ETHERNET, &frame).expect("the decoder reads it");
        prop_assert!(same(&seg, &theirs), "{seg:?} vs {theirs:?}");
        prop_assert_eq!(seg.payload, &c.payload[..]);
        prop_assert_eq!(seg.missing, 0);
    }

    #[test]
    fn cut_frames_never_invent_bytes(c in case(), cut in any::<prop::sample::Index>()) {
        let frame = build(&c);
        let at = cut.index(frame.len() + 1);
        let header_len = frame.len() - c.payload.len();
        match decode::decode(LinkType::ETHERNET, &frame[..at]) {
            Ok(seg) => {
                prop_assert!(at >= header_len, "a segment from a cut header ({at} < {header_len})");
                prop_assert_eq!(seg.payload, &c.payload[..at - header_len]);
                prop_assert_eq!(seg.payload.len() + seg.missing as usize, c.payload.len());
            }
            Err(skip) => {
                prop_assert!(at < header_len, "{skip:?} for a frame with its headers");
                prop_assert_eq!(skip, Skip::Truncated);
            }
        }
    }

    #[test]
    fn changed_frames_agree_whenever_etherparse_reads_tcp(
        c in case(),
        changes in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut frame = build(&c);
        // Changes in the headers (where the two could disagree).
        let header_len = frame.len() - c.payload.len();
        for (i, b) in &changes {
            let at = i.index(header_len);
            frame[at] = *b;
        }
        let mine = decode::decode(LinkType::ETHERNET, &frame);
        if let Some(theirs) = etherparse_reads(&frame) {
            let seg = mine.expect("the decoder reads what etherparse reads");
            prop_assert!(same(&seg, &theirs), "{seg:?} vs {theirs:?}");
        }
    }
}
