#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
use super::*;

fn req(ts_ms: i64, src: &str, uri: &str, headers: &[(&str, &str)]) -> DiffRequest {
    let headers: Vec<Header> = headers
        .iter()
        .map(|(n, v)| Header {
            name: n.to_string(),
            value: v.to_string(),
        })
        .collect();
    let leaks = Detector::new().inspect_parts("GET", uri, &headers);
    DiffRequest {
        ts: Timestamp(ts_ms * 1_000_000),
        src: src.into(),
        dst: "192.0.2.1:80".into(),
        method: "GET".into(),
        uri: uri.into(),
        version: "HTTP/1.1".into(),
        headers,
        leaks,
        file: None,
        packet: None,
        body_digest: None,
        authority: None,
        masked: false,
        flow_order: None,
        answer_awaited: false,
        status: None,
    }
}

fn run(b: Vec<DiffRequest>, a: Vec<DiffRequest>, opts: DiffOptions) -> (Vec<Event>, DiffOutcome) {
    let mut events = Vec::new();
    let out = diff(b, a, opts, &mut |e| events.push(e));
    (events, out)
}

fn pairs(events: &[Event]) -> Vec<&Pair> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Pair(p) => Some(p.as_ref()),
            Event::Unmatched(_) => None,
        })
        .collect()
}

#[test]
fn keys_ignore_target_form_case_and_default_port() {
    let h = |v: &str| {
        vec![Header {
            name: "HOST".into(),
            value: v.into(),
        }]
    };
    let a = Key::of("get", "http://WWW.Example.com:80/a?b", &[], None);
    let b = Key::of("GET", "/a?b", &h("www.example.com"), None);
    assert_eq!(a, b);
    // HTTP/2's :authority is the host (it has no Host header).
    let c = Key::of("GET", "/a?b", &[], Some("www.example.com:443"));
    assert_eq!(c, b);
    assert_eq!(Key::of("GET", "http://x.example", &[], None).target, "/");
    assert_ne!(
        Key::of("GET", "/a", &h("x"), None),
        Key::of("POST", "/a", &h("x"), None)
    );
}

#[test]
fn values_read_masked_compare_masked() {
    // BEFORE from a masked scan's JSON lines, AFTER from a capture: the
    // app's own number passed unchanged.
    let mut b = req(
        0,
        "10.0.0.2:5000",
        "/login?msisdn=44*******456",
        &[("Host", "h.example"), ("X-MSISDN", "44*******456")],
    );
    b.masked = true;
    let a = req(
        10,
        "198.51.100.7:40000",
        "/login?msisdn=447700900456",
        &[("Host", "h.example"), ("X-MSISDN", "447700900456")],
    );
    let p = compare(&b, &a, 0, false);
    assert!(p.changed.is_empty(), "{:?}", p.changed);
    assert!(!p.request_line_changed && !p.adds_identifier());
    // A value rewritten on the way still shows, as each side masks it.
    let rewritten = req(
        10,
        "198.51.100.7:40000",
        "/login?msisdn=447700900456",
        &[("Host", "h.example"), ("X-MSISDN", "447700900123")],
    );
    let p = compare(&b, &rewritten, 0, false);
    assert_eq!(p.changed.len(), 1);
    assert_eq!(p.changed[0].before.as_deref(), Some("44*******456"));
    assert_eq!(p.changed[0].after.as_deref(), Some("44*******123"));
    assert!(p.adds_identifier());
    // Both sides in clear: compared as they are.
    b.masked = false;
    assert!(compare(&b, &a, 0, false).adds_identifier());
}

#[test]
fn an_added_number_header_is_an_identifier_and_via_is_operational() {
    let b = req(
        0,
        "10.0.0.2:5000",
        "/",
        &[("Host", "h.example"), ("Accept", "*/*")],
    );
    let a = req(
        10,
        "198.51.100.7:40000",
        "/",
        &[
            ("host", "h.example"),
            ("Accept", "*/*"),
            ("Via", "1.1 proxy"),
            ("X-MSISDN", "447700900123"),
        ],
    );
    let p = compare(&b, &a, 0, false);
    assert_eq!(p.added.len(), 2);
    assert_eq!(p.added[0].class, Class::Operational);
    assert_eq!(p.added[1].class, Class::Identifier);
    assert_eq!(p.added[1].after.as_deref(), Some("44*******123"));
    assert_eq!(p.added[1].position, 3);
    assert_eq!(p.case_changed, vec!["host".to_string()]);
    assert!(!p.order_changed && p.adds_identifier());
    let clear = compare(&b, &a, 0, true);
    assert_eq!(clear.added[1].after.as_deref(), Some("447700900123"));
}

/// An opaque token added under a name no registry knows (the shape of
/// X-UIDH) is a tracking ID: an identifier, masked; a token under a known
/// name (a request ID), or a plain word under an unknown one, is not.
#[test]
fn an_added_opaque_token_is_an_identifier() {
    let b = req(0, "10.0.0.2:5000", "/", &[("Host", "h.example")]);
    let a = req(
        10,
        "198.51.100.7:40000",
        "/",
        &[
            ("Host", "h.example"),
            ("X-UIDH", "OTgxNTk2NDk2MjA1MTY0ODQ2MDA="),
            ("X-Acme-Sub", "a7Fq93kZ0pLw2"),
            ("X-Request-Id", "5f0c6a2e-9d1b-4c1e-8a53-0e4f2b7d9c11"),
            ("X-Acme-Mode", "standard"),
        ],
    );
    let p = compare(&b, &a, 0, false);
    let classes: Vec<(&str, Class)> = p.added.iter().map(|c| (c.name.as_str(), c.class)).collect();
    assert_eq!(
        classes,
        [
            ("X-UIDH", Class::Identifier),
            ("X-Acme-Sub", Class::Identifier),
            ("X-Request-Id", Class::Other),
            ("X-Acme-Mode", Class::Other),
        ]
    );
    assert_eq!(p.added[1].after.as_deref(), Some("**********Lw2"));
    assert!(p.adds_identifier());
    let clear = compare(&b, &a, 0, true);
    assert_eq!(clear.added[1].after.as_deref(), Some("a7Fq93kZ0pLw2"));
    assert_eq!(
        clear.added[2].after.as_deref(),
        Some("5f0c6a2e-9d1b-4c1e-8a53-0e4f2b7d9c11")
    );
}

#[test]
fn removed_changed_and_reordered_headers() {
    let b = req(
        0,
        "10.0.0.2:5000",
        "http://h.example/x",
        &[
            ("Host", "h.example"),
            ("Cookie", "a=1"),
            ("Accept", "*/*"),
            ("X-Forged-Msisdn", "447700900456"),
        ],
    );
    let a = req(
        0,
        "10.0.0.9:1",
        "/x",
        &[("Accept", "*/*"), ("Host", "h.example"), ("Cookie", "a=2")],
    );
    let p = compare(&b, &a, 0, false);
    assert!(p.order_changed && p.request_line_changed);
    assert_eq!(p.changed.len(), 1);
    assert_eq!(p.changed[0].before.as_deref(), Some("a=1"));
    assert_eq!(p.removed.len(), 1);
    assert_eq!(p.removed[0].class, Class::Identifier);
    // A removed identifier is not an added one.
    assert!(!p.adds_identifier());
}

#[test]
fn skewed_clocks_pair_after_estimating_the_offset() {
    let hdr = [("Host", "h.example")];
    let b: Vec<_> = (0..10)
        .map(|i| req(i * 1000, "10.0.0.2:5000", &format!("/{i}"), &hdr))
        .collect();
    let a: Vec<_> = (0..10)
        .map(|i| req(30_000 + i * 1000 + 5, "10.9.9.9:1", &format!("/{i}"), &hdr))
        .collect();
    let (events, out) = run(b, a, DiffOptions::default());
    assert_eq!(out.offset, 30_005_000_000);
    assert!(out.offset_estimated);
    assert_eq!(out.stats.pairs, 10);
    assert_eq!(pairs(&events).len(), 10);
}

#[test]
fn identical_requests_keep_their_order_and_extra_ones_are_unmatched() {
    let hdr = [("Host", "h.example")];
    let mut b: Vec<_> = (0..20)
        .map(|i| req(i * 10, "10.0.0.2:5000", "/same", &hdr))
        .collect();
    b.push(req(500, "10.0.0.2:5000", "/cached", &hdr));
    let mut a: Vec<_> = (0..20)
        .map(|i| req(i * 10 + 3, "10.9.9.9:1", "/same", &hdr))
        .collect();
    a.push(req(900, "10.9.9.9:1", "/prefetch", &hdr));
    let (events, out) = run(b, a, DiffOptions::default());
    let ps = pairs(&events);
    assert_eq!(ps.len(), 20);
    for (i, p) in ps.iter().enumerate() {
        assert_eq!(
            p.before.ts,
            Timestamp(i as i64 * 10_000_000).rfc3339().to_string()
        );
    }
    assert_eq!(out.stats.unmatched_before, 1);
    assert_eq!(out.stats.unmatched_after, 1);
    let reasons: Vec<Reason> = events
        .iter()
        .filter_map(|e| match e {
            Event::Unmatched(u) => Some(u.reason),
            Event::Pair(_) => None,
        })
        .collect();
    assert!(reasons.contains(&Reason::NotForwarded));
    assert!(reasons.contains(&Reason::CreatedOnTheWay));
}

/// A POST of `body` (its digest, as the body stage gives it).
fn post(ts_ms: i64, src: &str, body: &[u8]) -> DiffRequest {
    let mut r = req(ts_ms, src, "/api", &[("Host", "h.example")]);
    r.method = "POST".into();
    r.body_digest = Some(crate::body::digest_hex(&crate::body::digest(body)));
    r
}

#[test]
fn identical_posts_pair_by_their_bodies() {
    // Two clients post to the same target; the proxy forwards them in the
    // other order, on its own connections.
    let b = vec![
        post(0, "10.0.0.2:5000", b"user=alice"),
        post(1, "10.0.0.3:5000", b"user=bob"),
        post(2, "10.0.0.4:5000", b"user=carol"),
    ];
    let a = vec![
        post(5, "10.9.9.9:1", b"user=bob"),
        post(6, "10.9.9.9:2", b"user=alice"),
        // Rewritten on the way: pairs with what is left, marked changed.
        post(7, "10.9.9.9:3", b"user=carol&tracking=1"),
    ];
    let (events, out) = run(b, a, DiffOptions::default());
    let ps = pairs(&events);
    assert_eq!(ps.len(), 3);
    assert_eq!(ps[0].before.src, "10.0.0.3:5000");
    assert_eq!(ps[1].before.src, "10.0.0.2:5000");
    assert_eq!(ps[2].before.src, "10.0.0.4:5000");
    assert_eq!(
        ps.iter().map(|p| p.body_changed).collect::<Vec<_>>(),
        [false, false, true]
    );
    assert_eq!(out.stats.pairs_body_changed, 1);
    // Without digests (bodies not read) the first waiting request is taken.
    let strip = |mut r: DiffRequest| {
        r.body_digest = None;
        r
    };
    let b = vec![
        strip(post(0, "10.0.0.2:5000", b"")),
        strip(post(1, "10.0.0.3:5000", b"")),
    ];
    let a = vec![
        strip(post(5, "10.9.9.9:1", b"")),
        strip(post(6, "10.9.9.9:2", b"")),
    ];
    let (events, out) = run(b, a, DiffOptions::default());
    let ps = pairs(&events);
    assert_eq!(ps[0].before.src, "10.0.0.2:5000");
    assert_eq!(out.stats.pairs_body_changed, 0);
}

#[test]
fn forwarded_for_picks_the_named_client() {
    let hdr = [("Host", "h.example")];
    let b = vec![
        req(0, "10.0.0.2:5000", "/", &hdr),
        req(1, "10.0.0.3:5000", "/", &hdr),
    ];
    let a = vec![
        req(
            5,
            "10.9.9.9:1",
            "/",
            &[("Host", "h.example"), ("X-Forwarded-For", "10.0.0.3")],
        ),
        req(
            6,
            "10.9.9.9:2",
            "/",
            &[
                ("Host", "h.example"),
                ("Forwarded", "for=10.0.0.2;proto=http"),
            ],
        ),
    ];
    let (events, out) = run(b, a, DiffOptions::default());
    let ps = pairs(&events);
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0].before.src, "10.0.0.3:5000");
    assert_eq!(ps[1].before.src, "10.0.0.2:5000");
    assert!(ps.iter().all(|p| p.forwarded_for));
    assert_eq!(out.stats.forwarded_for_hints, 1);
}

#[test]
fn requests_outside_the_window_do_not_pair_and_memory_is_capped() {
    let hdr = [("Host", "h.example")];
    let b = vec![req(0, "10.0.0.2:5000", "/", &hdr)];
    let a = vec![req(60_000, "10.9.9.9:1", "/", &hdr)];
    let opts = DiffOptions {
        offset: Some(0),
        ..DiffOptions::default()
    };
    let (_, out) = run(b, a, opts);
    assert_eq!(
        (
            out.stats.pairs,
            out.stats.unmatched_before,
            out.stats.unmatched_after
        ),
        (0, 1, 1)
    );
    let b: Vec<_> = (0..50)
        .map(|i| req(i, "10.0.0.2:5000", &format!("/{i}"), &hdr))
        .collect();
    let opts = DiffOptions {
        offset: Some(0),
        max_pending: 10,
        ..DiffOptions::default()
    };
    let (_, out) = run(b, Vec::new(), opts);
    assert_eq!(out.stats.unmatched_before, 50);
    assert!(out.stats.pending_peak <= 11);
}

#[test]
fn unmatched_at_the_edges_name_the_other_capture() {
    let hdr = [("Host", "h.example")];
    let b = vec![
        req(0, "10.0.0.2:5000", "/early", &hdr),
        req(20_000, "10.0.0.2:5000", "/mid", &hdr),
        req(90_000, "10.0.0.2:5000", "/late", &hdr),
    ];
    let a = vec![req(20_001, "10.9.9.9:1", "/mid", &hdr)];
    let (events, _) = run(
        b,
        a,
        DiffOptions {
            offset: Some(0),
            ..DiffOptions::default()
        },
    );
    let reasons: Vec<(String, Reason)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Unmatched(u) => Some((u.seen.request_line.clone(), u.reason)),
            Event::Pair(_) => None,
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                "GET /early HTTP/1.1".to_string(),
                Reason::BeforeOtherCapture
            ),
            ("GET /late HTTP/1.1".to_string(), Reason::AfterOtherCapture),
        ]
    );
}

#[test]
fn forwarding_headers_the_client_already_sent_do_not_count() {
    // A request that already names another client in X-Forwarded-For (a
    // proxy in front of the capture) still pairs with its twin.
    let b = vec![
        req(0, "10.0.0.2:5000", "/x", &[("Host", "h.example")]),
        req(
            10,
            "10.0.0.3:5000",
            "/y",
            &[("Host", "h.example"), ("X-Forwarded-For", "10.0.0.2")],
        ),
    ];
    let (events, out) = run(b.clone(), b, DiffOptions::default());
    assert_eq!(pairs(&events).len(), 2);
    assert_eq!(out.stats.unmatched_before + out.stats.unmatched_after, 0);
}

#[test]
fn a_request_completed_late_on_both_sides_still_pairs() {
    let hdr = [("Host", "h.example")];
    // In completion order: the head at 1 s completes after requests at 10..19 s.
    let mut side: Vec<_> = (10..20)
        .map(|i| req(i * 1000, "10.0.0.2:5000", &format!("/{i}"), &hdr))
        .collect();
    side.push(req(1000, "10.0.0.4:5000", "/late", &hdr));
    side.push(req(21_000, "10.0.0.2:5000", "/21", &hdr));
    let opts = DiffOptions {
        offset: Some(0),
        ..DiffOptions::default()
    };
    let (events, out) = run(side.clone(), side, opts);
    assert_eq!(pairs(&events).len(), 12);
    assert_eq!(out.stats.unmatched_before + out.stats.unmatched_after, 0);
}

#[test]
fn the_cap_gives_up_after_requests_as_pending_cap_and_counts_them() {
    let hdr = [("Host", "h.example")];
    // Fifty AFTER requests within the window of BEFORE's only request: they
    // wait for BEFORE's time to pass them, and the cap cuts them first.
    let b = vec![req(100, "10.0.0.2:5000", "/b", &hdr)];
    let a: Vec<_> = (0..50)
        .map(|i| req(i, "10.9.9.9:1", &format!("/{i}"), &hdr))
        .collect();
    let opts = DiffOptions {
        offset: Some(0),
        max_pending: 10,
        ..DiffOptions::default()
    };
    let (events, out) = run(b, a, opts);
    let cut = events
        .iter()
        .filter(|e| {
            matches!(e, Event::Unmatched(u)
                if u.side == SideName::After && u.reason == Reason::PendingCap)
        })
        .count();
    assert_eq!(cut, 40);
    assert_eq!(out.stats.pending_cap, 40);
    assert_eq!(out.stats.unmatched_after, 50);
    assert!(out.stats.pending_peak <= 12, "{}", out.stats.pending_peak);
    // A cut AFTER request still pairs with a BEFORE request already waiting.
    let b = vec![req(0, "10.0.0.2:5000", "/x", &hdr)];
    let a = vec![
        req(1, "10.9.9.9:1", "/x", &hdr),
        req(2, "10.9.9.9:1", "/y", &hdr),
    ];
    let opts = DiffOptions {
        offset: Some(0),
        max_pending: 1,
        ..DiffOptions::default()
    };
    let (_, out) = run(b, a, opts);
    assert_eq!((out.stats.pairs, out.stats.pending_cap), (1, 0));
}

#[test]
fn an_idle_side_does_not_keep_the_others_requests_waiting() {
    let hdr = [("Host", "h.example")];
    // BEFORE is silent for an hour while AFTER makes a thousand requests of
    // its own: each is decided as soon as BEFORE's next request (read
    // ahead) shows its window has passed.
    let b = vec![
        req(0, "10.0.0.2:5000", "/first", &hdr),
        req(3_600_000, "10.0.0.2:5000", "/last", &hdr),
    ];
    let a: Vec<_> = (0..1000)
        .map(|i| req(10_000 + i * 1000, "10.9.9.9:1", &format!("/own/{i}"), &hdr))
        .collect();
    let opts = DiffOptions {
        offset: Some(0),
        ..DiffOptions::default()
    };
    let (events, out) = run(b.clone(), a.clone(), opts);
    assert_eq!(out.stats.unmatched_after, 1000);
    assert_eq!(out.stats.pending_cap, 0);
    // The window (5 s and 2 s of slack) holds at most eight of them.
    assert!(out.stats.pending_peak <= 10, "{}", out.stats.pending_peak);
    assert!(events.iter().all(|e| match e {
        Event::Unmatched(u) => u.side == SideName::Before || u.reason == Reason::CreatedOnTheWay,
        Event::Pair(_) => false,
    }));
    // The same with the sides swapped.
    let (_, out) = run(a, b, opts);
    assert_eq!(out.stats.unmatched_before, 1000);
    assert!(out.stats.pending_peak <= 10, "{}", out.stats.pending_peak);
}

/// A BEFORE request of flow 1 at position `seq` whose response is read.
fn awaited(ts_ms: i64, uri: &str, seq: u64) -> DiffRequest {
    let mut r = req(ts_ms, "10.0.0.2:5000", uri, &[("Host", "h.example")]);
    r.flow_order = Some((1, seq));
    r.answer_awaited = true;
    r
}

fn answer(seq: u64, status: u16) -> DiffInput {
    DiffInput::Answer(DiffAnswer {
        flow_order: (1, seq),
        status,
    })
}

/// The BEFORE unmatched requests: (target, reason, status).
fn unmatched_before(events: &[Event]) -> Vec<(String, Reason, Option<u16>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Unmatched(u) if u.side == SideName::Before => {
                Some((u.seen.request_line.clone(), u.reason, u.status))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_response_on_before_tells_answered_from_dropped() {
    let paired = |t: i64, uri: &str| req(t, "198.51.100.7:4000", uri, &[("Host", "h.example")]);
    for estimate in [true, false] {
        let before: Vec<DiffInput> = vec![
            awaited(0, "/a", 1).into(),
            awaited(100, "/hit", 2).into(),
            answer(1, 200),
            // Its answer after the next request, in its capture's order.
            awaited(200, "/dropped", 3).into(),
            answer(2, 304),
            // Read from an earlier scan: no response could be read.
            req(300, "10.0.0.2:5001", "/unknown", &[("Host", "h.example")]).into(),
            awaited(20_000, "/late", 4).into(),
            answer(4, 200),
            // An answer for a request already decided, or never seen.
            answer(1, 200),
            answer(9, 500),
        ];
        let after = vec![paired(10, "/a"), paired(20_010, "/late")];
        let opts = DiffOptions {
            offset: (!estimate).then_some(0),
            ..DiffOptions::default()
        };
        let mut events = Vec::new();
        let out = diff(before, after, opts, &mut |e| events.push(e));
        assert_eq!(
            unmatched_before(&events),
            [
                (
                    "GET /hit HTTP/1.1".into(),
                    Reason::AnsweredOnTheWay,
                    Some(304)
                ),
                ("GET /dropped HTTP/1.1".into(), Reason::NoResponse, None),
                ("GET /unknown HTTP/1.1".into(), Reason::NotForwarded, None),
            ],
            "estimate {estimate}"
        );
        let st = &out.stats;
        assert_eq!(st.pairs, 2);
        assert_eq!(
            (st.answered_on_the_way, st.no_response, st.not_forwarded),
            (1, 1, 1)
        );
        // /a's second answer finds it still read ahead when the offset is
        // estimated (the first answer counts), paired otherwise.
        let unused = if estimate { 1 } else { 2 };
        assert_eq!((st.answers_before, st.answers_unused), (5, unused));
    }
}

#[test]
fn a_request_awaiting_its_answer_waits_for_before_to_pass_it() {
    // AFTER ends at once: without the wait, /slow would be given up before
    // its answer, 3 s later in BEFORE's stream, was read.
    let before: Vec<DiffInput> = vec![
        awaited(0, "/slow", 1).into(),
        awaited(3_000, "/next", 2).into(),
        awaited(3_500, "/third", 3).into(),
        answer(1, 302),
        answer(2, 200),
    ];
    let after = vec![req(
        50,
        "198.51.100.7:4000",
        "/other",
        &[("Host", "h.example")],
    )];
    let opts = DiffOptions {
        offset: Some(0),
        ..DiffOptions::default()
    };
    let mut events = Vec::new();
    diff(before, after, opts, &mut |e| events.push(e));
    assert_eq!(
        unmatched_before(&events),
        [
            (
                "GET /slow HTTP/1.1".into(),
                Reason::AnsweredOnTheWay,
                Some(302)
            ),
            (
                "GET /next HTTP/1.1".into(),
                Reason::AnsweredOnTheWay,
                Some(200)
            ),
            ("GET /third HTTP/1.1".into(), Reason::NoResponse, None),
        ]
    );
    // The cap still cuts: nothing waits past --max-pending.
    let before: Vec<DiffInput> = (0..5)
        .map(|i| awaited(i, "/x", i as u64 + 1).into())
        .collect();
    let opts = DiffOptions {
        offset: Some(0),
        max_pending: 2,
        ..DiffOptions::default()
    };
    let mut events = Vec::new();
    let out = diff(before, Vec::<DiffRequest>::new(), opts, &mut |e| {
        events.push(e)
    });
    assert_eq!(out.stats.unmatched_before, 5);
    assert!(out.stats.pending_peak <= 3, "{}", out.stats.pending_peak);
}
