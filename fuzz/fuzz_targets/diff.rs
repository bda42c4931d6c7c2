//! `phoneleak diff`'s pairing, comparison and formats on arbitrary request
//! streams. The input is text: BEFORE's requests, a line `----`, AFTER's;
//! one request a line, `|`-separated: time in nanoseconds (any i64), client
//! `address:port`, method, target, then `name=value` headers. A line
//! `!N|S` is the answer (status S) to BEFORE's request N (from 0); a request
//! whose time is a multiple of 3 awaits one. The first byte also picks the
//! options (offset given or estimated, a small pending cap).
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::detect::Detector;
use phoneleak::diff::output::{DiffFormat, DiffHtml, DiffJsonl, DiffSummary, DiffText, Totals};
use phoneleak::diff::{DiffAnswer, DiffInput, DiffOptions, DiffRequest, Event, diff};
use phoneleak::http::Header;
use phoneleak::time::Timestamp;

/// A line of one side: a request, the `seq`-th of its side, or an answer.
fn input(line: &str, seq: &mut u64, detector: &Detector) -> DiffInput {
    if let Some(answer) = line.strip_prefix('!') {
        let (n, status) = answer.split_once('|').unwrap_or((answer, "200"));
        return DiffInput::Answer(DiffAnswer {
            flow_order: (0, n.trim().parse().unwrap_or(0)),
            status: status.trim().parse().unwrap_or(200),
        });
    }
    let mut r = request(line, detector);
    r.flow_order = Some((0, *seq));
    r.answer_awaited = r.ts.0 % 3 == 0;
    *seq += 1;
    DiffInput::Request(r)
}

fn request(line: &str, detector: &Detector) -> DiffRequest {
    let mut parts = line.split('|');
    let ts = parts
        .next()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    let src = parts.next().unwrap_or("10.0.0.1:1").to_string();
    let method = parts.next().unwrap_or("GET").to_string();
    let uri = parts.next().unwrap_or("/").to_string();
    let headers: Vec<Header> = parts
        .map(|h| match h.split_once('=') {
            Some((n, v)) => Header {
                name: n.to_string(),
                value: v.to_string(),
            },
            None => Header {
                name: h.to_string(),
                value: String::new(),
            },
        })
        .collect();
    let leaks = detector.inspect_parts(&method, &uri, &headers);
    // A pseudo-header `@body=X` gives the request a body digest.
    let body_digest = headers
        .iter()
        .find(|h| h.name == "@body")
        .map(|h| h.value.clone());
    DiffRequest {
        ts: Timestamp(ts),
        src,
        dst: "192.0.2.1:80".into(),
        method,
        uri,
        version: "HTTP/1.1".into(),
        headers,
        leaks,
        file: None,
        packet: None,
        body_digest,
        // An odd time: the request as a masked earlier run wrote it.
        masked: ts & 1 == 1,
        authority: None,
        flow_order: None,
        answer_awaited: false,
        status: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let detector = Detector::new();
    let (b, a) = text.split_once("\n----\n").unwrap_or((&text, ""));
    let mut seq = 0;
    let before: Vec<DiffInput> = b.lines().map(|l| input(l, &mut seq, &detector)).collect();
    let nb = seq;
    let mut seq = 0;
    let after: Vec<DiffInput> = a.lines().map(|l| input(l, &mut seq, &detector)).collect();
    let na = seq;
    let opts = DiffOptions {
        offset: (flags & 1 == 1).then_some(i64::from(flags >> 2) * 1_000_000_000),
        max_pending: if flags & 2 == 2 { 4 } else { 100_000 },
        show_numbers: flags & 128 == 128,
        ..DiffOptions::default()
    };
    let mut totals = Totals::default();
    let mut text_out = DiffText::new(std::io::sink());
    let mut jsonl = DiffJsonl::new(std::io::sink());
    let mut html = DiffHtml::new(std::io::sink());
    let mut events = 0u64;
    let outcome = diff(
        before,
        after,
        opts,
        &mut |e: Event| {
            events += 1;
            totals.add(&e);
            let _ = jsonl.event(&e);
        },
    );
    let s = &outcome.stats;
    // Every request is paired or reported unmatched, once.
    assert_eq!(s.pairs + s.unmatched_before, nb);
    assert_eq!(s.pairs + s.unmatched_after, na);
    assert_eq!(events, s.pairs + s.unmatched_before + s.unmatched_after);
    assert!(s.answered_on_the_way + s.no_response + s.not_forwarded <= s.unmatched_before);
    assert!(s.answers_unused <= s.answers_before);
    let summary = DiffSummary::new(
        Vec::new(),
        Vec::new(),
        &outcome,
        opts.max_skew,
        &totals,
        Vec::new(),
    );
    let _ = text_out.finish(&totals, &summary);
    let _ = jsonl.finish(&totals, &summary);
    let _ = html.finish(&totals, &summary);
});
