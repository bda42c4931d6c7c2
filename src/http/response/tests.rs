use super::*;

/// Feeds the requests' methods (seq from 1), then `parts` (`Err(len)`: a
/// gap); returns (seq, status) of each answer, whether it still reads, and
/// the counters.
fn run(methods: &[&str], parts: &[Result<&[u8], u64>]) -> (Vec<(u64, u16)>, bool, HttpStats) {
    let mut s = ResponseStream::new();
    let mut stats = HttpStats::default();
    for (i, m) in methods.iter().enumerate() {
        s.expect(i as u64 + 1, m, &mut stats);
    }
    let mut out = Vec::new();
    for p in parts {
        match p {
            Ok(bytes) => s.data(Timestamp(0), bytes, 64 << 10, &mut stats, &mut out),
            Err(len) => s.gap(*len, &mut stats),
        }
    }
    let answers = out.iter().map(|a| (a.seq, a.status)).collect();
    (answers, s.reading(), stats)
}

/// Every framing of RFC 9112 §6.3, one after another on one connection,
/// and the request after them still answered.
const EVERY_FRAMING: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/\
HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n\
HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n\
HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n\
HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 99\r\n\r\n\
5;ext=\"a;b\"\r\nHTTP/\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: 1\r\nX-More: 2\r\n\r\n\
\r\nHTTP/1.0 404 Not Found\r\ncontent-length: 3, 3\r\n\r\n404\
HTTP/1.1 200 OK\r\n\r\nread until the connection closes HTTP/1.1 200 OK\r\n\r\n";

const EVERY_METHOD: &[&str] = &["GET", "HEAD", "GET", "GET", "GET", "GET", "GET"];

#[test]
fn every_framing_finds_the_next_response() {
    let (answers, reading, stats) = run(EVERY_METHOD, &[Ok(EVERY_FRAMING)]);
    assert_eq!(
        answers,
        [
            (1, 200),
            (2, 200),
            (3, 204),
            (4, 304),
            (5, 200),
            (6, 404),
            (7, 200)
        ]
    );
    assert!(reading);
    assert_eq!((stats.responses, stats.interim_responses), (7, 2));
    assert_eq!(stats.response_sync_lost, 0);
}

#[test]
fn answers_do_not_depend_on_how_the_bytes_are_cut() {
    let whole = run(EVERY_METHOD, &[Ok(EVERY_FRAMING)]);
    for at in 0..=EVERY_FRAMING.len() {
        let (a, b) = EVERY_FRAMING.split_at(at);
        assert_eq!(run(EVERY_METHOD, &[Ok(a), Ok(b)]), whole, "cut at {at}");
    }
    let bytes: Vec<Result<&[u8], u64>> = EVERY_FRAMING.chunks(1).map(Ok).collect();
    assert_eq!(run(EVERY_METHOD, &bytes), whole);
}

#[test]
fn pipelined_responses_answer_their_requests_in_order() {
    let mut stream = Vec::new();
    for (i, status) in [200, 301, 500].iter().enumerate() {
        stream.extend(format!("HTTP/1.1 {status} X\r\nContent-Length: {i}\r\n\r\n").bytes());
        stream.extend(std::iter::repeat_n(b'x', i));
    }
    let (answers, reading, _) = run(&["GET", "GET", "POST"], &[Ok(&stream)]);
    assert_eq!(answers, [(1, 200), (2, 301), (3, 500)]);
    assert!(reading);
    // A fourth response no request asked for: reading stops.
    stream.extend(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let (answers, reading, stats) = run(&["GET", "GET", "POST"], &[Ok(&stream)]);
    assert_eq!(answers.len(), 3);
    assert!(!reading);
    assert_eq!(stats.response_sync_lost, 1);
}

#[test]
fn garbage_stops_reading_and_nothing_is_guessed() {
    for bad in [
        &b"<html>not a response</html>\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
    ] {
        let (answers, reading, stats) = run(&["GET", "GET"], &[Ok(bad)]);
        assert!(answers.len() <= 1, "{bad:?}");
        assert!(!reading, "{bad:?}");
        assert_eq!(stats.response_sync_lost, 1, "{bad:?}");
        // Nothing more is read.
        let (more, _, _) = run(
            &["GET", "GET"],
            &[Ok(bad), Ok(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")],
        );
        assert_eq!(more, answers, "{bad:?}");
    }
}

#[test]
fn gaps_inside_a_known_length_are_stepped_over_others_stop() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab";
    let next = b"HTTP/1.1 404 N\r\n\r\n";
    let (answers, reading, _) = run(&["GET", "GET"], &[Ok(head), Err(8), Ok(next)]);
    assert_eq!(answers, [(1, 200), (2, 404)]);
    assert!(reading);
    // A gap past the body's end, or in a head: lost.
    for gap in [9, 1] {
        let parts: [Result<&[u8], u64>; 3] = if gap == 9 {
            [Ok(head), Err(9), Ok(next)]
        } else {
            [Ok(b"HTTP/1.1 2"), Err(1), Ok(b"0 OK\r\n\r\n")]
        };
        let (answers, reading, stats) = run(&["GET", "GET"], &parts);
        assert!(answers.len() <= 1);
        assert!(!reading);
        assert_eq!(stats.response_sync_lost, 1);
    }
    // Inside chunk data, or a body that runs to the end: no harm.
    let (answers, reading, _) = run(
        &["GET", "GET"],
        &[
            Ok(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
            Err(3),
            Ok(b"\r\n0\r\n\r\nHTTP/1.1 201 C\r\n\r\nrest"),
            Err(100),
        ],
    );
    assert_eq!(answers, [(1, 200), (2, 201)]);
    assert!(reading);
}

#[test]
fn connect_and_switching_protocols_end_the_reading() {
    let (answers, reading, _) = run(
        &["CONNECT", "GET"],
        &[Ok(
            b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01",
        )],
    );
    assert_eq!(answers, [(1, 200)]);
    assert!(!reading);
    // A refused CONNECT is an ordinary response.
    let (answers, reading, _) = run(
        &["CONNECT", "GET"],
        &[Ok(
            b"HTTP/1.1 403 F\r\nContent-Length: 2\r\n\r\nnoHTTP/1.1 200 OK\r\n\r\n",
        )],
    );
    assert_eq!(answers, [(1, 403), (2, 200)]);
    assert!(reading);
    let (answers, reading, stats) = run(
        &["GET"],
        &[Ok(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n\0\0\0\x04",
        )],
    );
    assert!(answers.is_empty());
    assert!(!reading);
    assert_eq!(stats.response_sync_lost, 0);
}

#[test]
fn heads_and_awaited_requests_are_bounded() {
    let mut s = ResponseStream::new();
    let mut stats = HttpStats::default();
    s.expect(1, "GET", &mut stats);
    let mut out = Vec::new();
    let long = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(300));
    s.data(Timestamp(0), long.as_bytes(), 200, &mut stats, &mut out);
    assert!(out.is_empty() && !s.reading());
    assert!(s.buffered() <= 200);
    assert_eq!(stats.response_heads_over_limit, 1);
    let mut s = ResponseStream::new();
    let mut stats = HttpStats::default();
    for i in 0..MAX_AWAITED as u64 {
        assert!(s.expect(i, "GET", &mut stats));
    }
    assert!(!s.expect(9999, "GET", &mut stats));
    assert!(!s.reading());
    assert_eq!(stats.responses_awaited_cap, 1);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut seed = 7u64;
    for _ in 0..2000 {
        let mut s = ResponseStream::new();
        let mut stats = HttpStats::default();
        let mut out = Vec::new();
        s.expect(1, "GET", &mut stats);
        s.expect(2, "HEAD", &mut stats);
        for _ in 0..8 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (seed >> 33) as usize % 40;
            let bytes: Vec<u8> = (0..len)
                .map(|i| {
                    EVERY_FRAMING[(seed as usize >> 7).wrapping_add(i) % EVERY_FRAMING.len()]
                        ^ ((seed >> 60) as u8 & 1)
                })
                .collect();
            if seed & 15 == 0 {
                s.gap(seed >> 40, &mut stats);
            } else {
                s.data(Timestamp(0), &bytes, 100, &mut stats, &mut out);
            }
            assert!(s.buffered() <= 100.max(crate::http::stream::MAX_LINE) * 2);
        }
    }
}
