//! Micro-benchmarks of each pipeline stage (divan), so a regression in one
//! stage shows even when the end-to-end time hides it. Inputs are the
//! project's own fixtures. Run: `cargo bench --bench stages`.
// Test code: a panic is a failed check (Cargo.toml denies these in src/).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
use std::sync::Arc;

use phoneleak::capture::{CaptureReader, LinkType, PacketSource};
use phoneleak::decode;
use phoneleak::detect::Detector;
use phoneleak::flow::{
    Chunk, CloseReason, FlowContext, FlowTable, Interest, Limits, Side, StreamHandler,
};
use phoneleak::http::{Header, parse_head};
use phoneleak::pipeline::{Analyzer, Config};
use phoneleak::stack::{Extractor, StackLimits};

use fixturegen::corpus;

fn main() {
    divan::main();
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_default()
}

/// Every packet of a fixture as (link type, bytes).
fn frames(name: &str) -> Vec<(LinkType, Vec<u8>)> {
    let mut reader =
        CaptureReader::new(std::io::Cursor::new(fixture(name))).expect("fixture is a capture");
    let mut out = Vec::new();
    while let Ok(Some(p)) = reader.next_packet() {
        out.push((p.link, p.data.to_vec()));
    }
    out
}

/// Record walking: the streaming pcap reader over an in-memory capture.
#[divan::bench]
fn capture_walk_records(bencher: divan::Bencher) {
    let bytes = fixture("keepalive-pipelined.pcap");
    bencher
        .counter(divan::counter::BytesCount::new(bytes.len()))
        .bench(|| {
            let mut reader =
                CaptureReader::new(std::io::Cursor::new(bytes.clone())).expect("capture");
            let mut n = 0usize;
            while let Ok(Some(p)) = reader.next_packet() {
                n += p.data.len();
            }
            n
        });
}

/// Decoding one frame: the Ethernet/IPv4/TCP fast path and the general path (VLAN, IPv6, cooked).
#[divan::bench(args = ["keepalive-pipelined.pcap", "vlan.pcap", "links.pcapng"])]
fn decode_frames(bencher: divan::Bencher, name: &str) {
    let frames = frames(name);
    bencher
        .counter(divan::counter::ItemsCount::new(frames.len()))
        .bench(|| {
            frames
                .iter()
                .filter(|(link, data)| decode::decode(*link, data).is_ok())
                .count()
        });
}

/// A handler that does nothing: measures lookup and reassembly alone.
#[derive(Default)]
struct Discard;

impl StreamHandler for Discard {
    type State = ();
    fn on_chunk(&mut self, _: &mut (), _: &FlowContext, _: Side, chunk: Chunk<'_>) -> Interest {
        divan::black_box(chunk);
        Interest::Continue
    }
    fn on_close(&mut self, _: &mut (), _: &FlowContext, _: CloseReason) {}
}

/// Flow lookup and reassembly, in order and out of order.
#[divan::bench(args = ["keepalive-pipelined.pcap", "reorder-retransmit.pcap"])]
fn flow_reassembly(bencher: divan::Bencher, name: &str) {
    let frames = frames(name);
    let segments: Vec<_> = frames
        .iter()
        .filter_map(|(l, d)| decode::decode(*l, d).ok())
        .collect();
    bencher
        .counter(divan::counter::ItemsCount::new(segments.len()))
        .bench(|| {
            let mut table = FlowTable::new(Limits::default());
            let mut handler = Discard;
            for (i, seg) in segments.iter().enumerate() {
                table.process(
                    i as u64,
                    phoneleak::time::Timestamp(i as i64),
                    seg,
                    &mut handler,
                );
            }
            table.flush_all(&mut handler);
        });
}

const HEAD: &[u8] = b"GET /news/2012/01/25/story.html?ref=home HTTP/1.1\r\nHost: www.news.example\r\n\
User-Agent: Mozilla/5.0 (Linux; U; Android 2.3.6; en-gb; GT-I9100 Build/GINGERBREAD) AppleWebKit/533.1\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-GB, en-US\r\n\
Accept-Encoding: gzip,deflate\r\nCookie: session=8f3a9c1d2b; prefs=compact\r\nReferer: http://www.news.example/\r\n\
x-up-calling-line-id: 447700900123\r\nConnection: keep-alive\r\n\r\n";

/// Request-head parsing (httparse path).
#[divan::bench]
fn http_parse_head(bencher: divan::Bencher) {
    bencher
        .counter(divan::counter::BytesCount::new(HEAD.len()))
        .bench(|| parse_head(divan::black_box(HEAD)));
}

/// HTTP extraction over whole flows (stream state machine + parsing).
#[divan::bench]
fn http_extract_flows(bencher: divan::Bencher) {
    let frames = frames("keepalive-pipelined.pcap");
    let segments: Vec<_> = frames
        .iter()
        .filter_map(|(l, d)| decode::decode(*l, d).ok())
        .collect();
    bencher
        .counter(divan::counter::ItemsCount::new(150usize))
        .bench(|| {
            let mut table = FlowTable::new(Limits::default());
            let mut http = Extractor::new(StackLimits::default(), Default::default());
            let mut n = 0;
            for (i, seg) in segments.iter().enumerate() {
                table.process(
                    i as u64,
                    phoneleak::time::Timestamp(i as i64),
                    seg,
                    &mut http,
                );
                n += http.take_requests().count();
            }
            n
        });
}

/// Detection per request: a leaking head and an ordinary one.
#[divan::bench(args = [true, false])]
fn detect_request(bencher: divan::Bencher, leaking: bool) {
    let head = parse_head(HEAD).expect("valid head");
    let headers: Vec<Header> = head
        .headers
        .into_iter()
        .filter(|h| leaking || !h.name.starts_with("x-up"))
        .collect();
    let request = phoneleak::http::Request {
        ts: phoneleak::time::Timestamp(0),
        client: "10.0.0.1:40000".parse().expect("address"),
        server: "192.0.2.1:80".parse().expect("address"),
        flow_id: 1,
        method: head.method,
        uri: head.uri,
        version: head.version,
        headers,
        truncated: false,
        flow_order: (0, 0),
        tunnel: None,
        tls: None,
        stream_id: None,
        pushed_on: None,
        authority: None,
        answer_awaited: false,
        body: None,
    };
    let detector = Detector::new();
    bencher.bench(|| detector.inspect(divan::black_box(&request)).len());
}

/// Detection per request over the generated corpora of `fixturegen/src/corpus.rs`:
/// 2,000 benign requests full of digit strings, or 2,000 leaking ones (every
/// way a leak is planted, in turn). The counter is requests: divan's
/// `item/s` and the median time per iteration / 2,000 give the cost of one
/// request (figures in docs/detection.md).
#[divan::bench(args = ["benign", "leaking"])]
fn detect_corpus(bencher: divan::Bencher, which: &str) {
    let requests: Vec<corpus::Req> = if which == "benign" {
        corpus::benign(1, 2000)
    } else {
        let mine = ("44".to_string(), "7700900123".to_string());
        corpus::leaking(2, 2000, &mine)
            .into_iter()
            .map(|l| l.req)
            .collect()
    };
    let detector = Detector::new();
    bencher
        .counter(divan::counter::ItemsCount::new(requests.len()))
        .bench(|| {
            requests
                .iter()
                .map(|r| {
                    detector
                        .inspect_parts(&r.method, divan::black_box(&r.uri), &r.headers)
                        .len()
                })
                .sum::<usize>()
        });
}

/// The whole pipeline over a fixture, packets already in memory.
#[divan::bench]
fn pipeline_o2(bencher: divan::Bencher) {
    let bytes = fixture("o2-2012.pcap");
    bencher
        .counter(divan::counter::BytesCount::new(bytes.len()))
        .bench(|| {
            let mut reader =
                CaptureReader::new(std::io::Cursor::new(bytes.clone())).expect("capture");
            let mut analyzer = Analyzer::new(Config::default(), Arc::new(Detector::new()));
            let mut n = 0;
            let mut index = 0;
            while let Ok(Some(p)) = reader.next_packet() {
                analyzer.packet(index, &p, &mut |_| n += 1);
                index += 1;
            }
            analyzer.end_of_input(&mut |_| n += 1);
            n
        });
}
