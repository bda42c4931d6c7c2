//! Proxy wrappers and request lines as clients really send them: SOCKS
//! handshakes before HTTP, plain HTTP through a CONNECT tunnel, a request
//! on the SYN-ACK, targets with spaces or bytes that are not UTF-8, missing
//! or cut versions, a request line of 1 MiB, conflicting Content-Lengths.

use super::Fixture;
use super::http::{Req, UA_ANDROID, UA_DESKTOP, html, response};
use super::packet::{ACK, SYN};
use super::scenarios::{MSISDN, MSISDN2, T0, eth_pcap, fixture};
use super::tcp::{Conversation, Seg, Trace};

/// Notes a request for the truth (as reported: its leaks are those of the
/// part kept) and sends `bytes`, its wire form, which `req` cannot spell,
/// from the client; the server ACKs.
fn raw_request(c: &mut Conversation, t: &mut Trace, req: &Req, bytes: &[u8], truncated: bool) {
    c.note(t, c.c_next, req, false, truncated, req.leak_headers());
    c.send(t, true, bytes);
}

/// A request for the truth only: method, target as reported, Host.
fn truth_req(method: &str, uri: &str, host: &str) -> Req {
    let r = Req::new(method, uri);
    if host.is_empty() {
        r
    } else {
        r.h("Host", host)
    }
}

fn socks_proxy_flows(t: &mut Trace) {
    // SOCKS 4 with a user id, to an IPv4 address.
    let mut c = Conversation::new(
        t,
        "10.0.0.60:52000",
        "192.0.2.10:1080",
        0x5000_0000,
        0x5100_0000,
    );
    c.handshake(t);
    c.send(t, true, b"\x04\x01\x00\x50\xcb\x00\x71\x0aalice\x00");
    c.respond(t, b"\x00\x5a\x00\x50\xcb\x00\x71\x0a");
    let r = Req::get("/socks4", "www.example.com")
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", MSISDN);
    c.exchange(t, &r, "socks4");
    c.fin_close(t);

    // SOCKS 4a: address 0.0.0.1, host name after the (empty) user id.
    let mut c = Conversation::new(
        t,
        "10.0.0.60:52001",
        "192.0.2.10:1080",
        0x5200_0000,
        0x5300_0000,
    );
    c.handshake(t);
    c.send(
        t,
        true,
        b"\x04\x01\x00\x50\x00\x00\x00\x01\x00www.example.com\x00",
    );
    c.respond(t, b"\x00\x5a\x00\x00\x00\x00\x00\x00");
    let r = Req::get("/socks4a", "www.example.com")
        .h("User-Agent", UA_ANDROID)
        .leak("X-Up-Calling-Line-Id", MSISDN);
    c.exchange(t, &r, "socks4a");
    c.fin_close(t);

    // SOCKS 5: greeting offering no-auth and username/password, RFC 1929
    // credentials, CONNECT to a domain name.
    let mut c = Conversation::new(
        t,
        "10.0.0.60:52002",
        "192.0.2.10:1080",
        0x5400_0000,
        0x5500_0000,
    );
    c.handshake(t);
    c.send(t, true, b"\x05\x02\x00\x02");
    c.respond(t, b"\x05\x02");
    c.send(t, true, b"\x01\x05alice\x06secret");
    c.respond(t, b"\x01\x00");
    c.send(t, true, b"\x05\x01\x00\x03\x0fwww.example.com\x00\x50");
    c.respond(t, b"\x05\x00\x00\x01\xcb\x00\x71\x0a\x00\x50");
    let r = Req::get("/socks5", "www.example.com")
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", MSISDN2);
    c.exchange(t, &r, "socks5");
    c.fin_close(t);
}

fn connect_flows(t: &mut Trace) {
    // CONNECT, its 200, then plain HTTP through the tunnel.
    let mut c = Conversation::new(
        t,
        "10.0.0.61:52100",
        "192.0.2.11:3128",
        0x5600_0000,
        0x5700_0000,
    );
    c.handshake(t);
    let connect = Req::new("CONNECT", "www.example.com:80")
        .h("Host", "www.example.com:80")
        .h("User-Agent", UA_DESKTOP);
    c.request(t, &connect);
    c.respond(t, b"HTTP/1.1 200 Connection established\r\n\r\n");
    let r = Req::get("/through-connect", "www.example.com")
        .h("User-Agent", UA_DESKTOP)
        .leak("X-MSISDN", MSISDN);
    c.exchange(t, &r, "tunnel");
    let r = Req::get("/through-connect-2", "www.example.com").h("User-Agent", UA_DESKTOP);
    c.exchange(t, &r, "tunnel 2");
    c.fin_close(t);

    // CONNECT, its 200, then TLS: nothing after the CONNECT is a request,
    // even the request-like text inside the record.
    let mut c = Conversation::new(
        t,
        "10.0.0.61:52101",
        "192.0.2.11:3128",
        0x5800_0000,
        0x5900_0000,
    );
    c.handshake(t);
    let connect = Req::new("CONNECT", "secure.example.com:443")
        .h("Host", "secure.example.com:443")
        .h("User-Agent", UA_DESKTOP);
    c.request(t, &connect);
    c.respond(t, b"HTTP/1.1 200 Connection established\r\n\r\n");
    let mut record = b"\x16\x03\x01\x00\x3a\x01\x00\x00\x36\x03\x03".to_vec();
    record.extend_from_slice(b"GET /inside-tls HTTP/1.1\r\nX-MSISDN: 447700900123\r\n\r\n");
    c.send(t, true, &record);
    c.respond(t, b"\x16\x03\x03\x00\x04\x02\x00\x00\x00");
    c.fin_close(t);
}

/// The side that answers the SYN sends a request on its SYN-ACK; the SYN's
/// sender acknowledges it and answers.
fn synack_flow(t: &mut Trace) {
    let mut c = Conversation::new(
        t,
        "10.0.0.62:80",
        "198.51.100.20:41000",
        0x5a00_0000,
        0x5b00_0000,
    );
    let syn = Seg {
        from_client: false,
        seq: c.s_next,
        ack: 0,
        flags: SYN,
        payload: Vec::new(),
    };
    c.emit(t, &syn);
    c.s_next = c.s_next.wrapping_add(1);
    t.advance_us(20_000);
    let r = Req::get("/on-the-syn-ack", "device.example.net")
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", MSISDN);
    let bytes = r.bytes();
    c.note(
        t,
        c.c_next.wrapping_add(1),
        &r,
        false,
        false,
        r.leak_headers(),
    );
    let synack = c.seg_at(true, c.c_next, SYN | ACK, &bytes);
    c.emit(t, &synack);
    c.c_next = c.c_next.wrapping_add(1 + bytes.len() as u32);
    c.ack(t, false);
    let b = html(t.now_ns, "syn-ack");
    c.respond(t, &b);
    c.fin_close(t);
}

pub fn proxy_wrappers() -> Fixture {
    let mut t = Trace::new(T0 + 61_200, 0);
    socks_proxy_flows(&mut t);
    connect_flows(&mut t);
    synack_flow(&mut t);
    fixture(
        "proxy-wrappers.pcap",
        &t,
        eth_pcap(&t),
        "Requests behind proxy wrappers: HTTP after a SOCKS 4 handshake (user id), a SOCKS 4a one (host name) and a SOCKS 5 one (username/password, domain name) on port 1080; plain HTTP through a CONNECT tunnel after its 200, and a CONNECT tunnel carrying a TLS record (with request-like text inside it); a request carried by the SYN-ACK of a connection, sent by the side that answered the SYN and acknowledged by the other.",
        "Report the three requests behind SOCKS (x-msisdn, x-up-calling-line-id, x-msisdn), both CONNECTs, the two requests through the first tunnel (the first with x-msisdn), nothing from inside the TLS record, and the request on the SYN-ACK (x-msisdn) with the side that answered the SYN as its client.",
    )
}

pub fn request_lines() -> Fixture {
    let mut t = Trace::new(T0 + 64_800, 0);
    let bad_request =
        |t: &Trace| response(t.now_ns, "400 Bad Request", "text/plain", b"bad request\n");

    // Spaces inside the target, then a request that leaks, on one connection.
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.63:52300",
        "203.0.113.30:80",
        0x6000_0000,
        0x6100_0000,
    );
    c.handshake(&mut t);
    let r = truth_req("GET", "/q?x=a b", "www.example.com");
    raw_request(
        &mut c,
        &mut t,
        &r,
        b"GET /q?x=a b HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/7.29.0\r\n\r\n",
        false,
    );
    let b = html(t.now_ns, "spaces");
    c.respond(&mut t, &b);
    let r = truth_req("GET", "/cgi-bin/x;cat /etc/passwd|?d=1", "www.example.com");
    raw_request(
        &mut c,
        &mut t,
        &r,
        b"GET /cgi-bin/x;cat /etc/passwd|?d=1 HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
        false,
    );
    let b = bad_request(&t);
    c.respond(&mut t, &b);
    let r = Req::get("/after-spaces", "www.example.com")
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", MSISDN);
    c.exchange(&mut t, &r, "after");
    c.fin_close(&mut t);

    // Missing and cut versions, each on its own connection, each with a leak.
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "/",
            b"GET /\r\nHost: www.example.com\r\nX-MSISDN: 447700900123\r\n\r\n",
            "GET",
        ),
        (
            "/HTTP/1.1",
            b"GET /HTTP/1.1\r\nHost: www.example.com\r\nX-MSISDN: 447700900123\r\n\r\n",
            "GET",
        ),
        (
            "/",
            b"GET / HTTP/1.\r\nHost: www.example.com\r\nX-MSISDN: 447700900123\r\n\r\n",
            "GET",
        ),
        ("", b"OPTIONS\r\n\r\n", "OPTIONS"),
    ];
    for (i, (uri, wire, method)) in cases.iter().enumerate() {
        let mut c = Conversation::new(
            &mut t,
            &format!("10.0.0.63:{}", 52310 + i),
            "203.0.113.30:80",
            0x6200_0000 + ((i as u32) << 20),
            0x6300_0000 + ((i as u32) << 20),
        );
        c.handshake(&mut t);
        let host = if wire.len() > 20 {
            "www.example.com"
        } else {
            ""
        };
        let mut r = truth_req(method, uri, host);
        if host.is_empty() {
            raw_request(&mut c, &mut t, &r, wire, false);
        } else {
            r = r.leak("X-MSISDN", MSISDN);
            raw_request(&mut c, &mut t, &r, wire, false);
        }
        let b = bad_request(&t);
        c.respond(&mut t, &b);
        c.fin_close(&mut t);
    }

    // A byte that is not UTF-8 in the target, then a request that leaks.
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.63:52320",
        "203.0.113.31:80",
        0x6800_0000,
        0x6900_0000,
    );
    c.handshake(&mut t);
    let r = truth_req("GET", "/caf\u{FFFD}", "www.example.com").leak("X-MSISDN", MSISDN);
    raw_request(
        &mut c,
        &mut t,
        &r,
        b"GET /caf\xe9 HTTP/1.1\r\nHost: www.example.com\r\nX-MSISDN: 447700900123\r\n\r\n",
        false,
    );
    let b = html(t.now_ns, "cafe");
    c.respond(&mut t, &b);
    let r = Req::get("/after-latin1", "www.example.com").leak("X-Up-Calling-Line-Id", MSISDN2);
    c.exchange(&mut t, &r, "after");
    c.fin_close(&mut t);

    // A request line of 1 MiB whose target leaks near its start, then a request that leaks.
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.63:52330",
        "203.0.113.32:80",
        0x6a00_0000,
        0x6b00_0000,
    );
    c.handshake(&mut t);
    let mut target = format!("/long?msisdn={MSISDN}&pad=");
    target.push_str(&"abcdefghij".repeat((1 << 20) / 10));
    let wire = format!("GET {target} HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
    // Reported: the target as far as the 64 KiB head limit (after "GET ").
    let r = truth_req("GET", &target[..64 * 1024 - 4], "").uri_leaks();
    raw_request(&mut c, &mut t, &r, wire.as_bytes(), true);
    let b = response(t.now_ns, "414 URI Too Long", "text/plain", b"too long\n");
    c.respond(&mut t, &b);
    let r = Req::get("/after-long", "www.example.com").leak("X-MSISDN", MSISDN);
    c.exchange(&mut t, &r, "after");
    c.fin_close(&mut t);

    // Conflicting Content-Length values, then a request that leaks.
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.63:52340",
        "203.0.113.33:80",
        0x6c00_0000,
        0x6d00_0000,
    );
    c.handshake(&mut t);
    let r = truth_req("POST", "/form", "www.example.com");
    raw_request(&mut c, &mut t, &r, b"POST /form HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 10\r\nContent-Length: 12\r\n\r\n", false);
    c.send(&mut t, true, b"name=abcdefg");
    let b = bad_request(&t);
    c.respond(&mut t, &b);
    let r = Req::get("/after-conflict", "www.example.com").leak("X-MSISDN", MSISDN);
    c.exchange(&mut t, &r, "after");
    c.fin_close(&mut t);

    fixture(
        "request-lines.pcap",
        &t,
        eth_pcap(&t),
        "Request lines as clients really send them: targets with spaces (`GET /q?x=a b`, a scanner's `GET /cgi-bin/x;cat /etc/passwd|?d=1`) then a leaking request on the same connection; missing or cut versions (`GET /`, `GET /HTTP/1.1`, `GET / HTTP/1.` with header lines, a bare `OPTIONS` with a blank line), each on its own connection; a target with the byte 0xE9 (Latin-1), then a leaking request; a request line of 1 MiB with the number near its start, then a leaking request; a POST with two different Content-Length values and a body, then a leaking request.",
        "Report every request. Targets with spaces are reported whole; a missing version is reported empty and a cut one as sent; the byte 0xE9 becomes U+FFFD; the 1 MiB line is reported truncated with its target cut at the 64 KiB head limit (the number in it found); the POST is reported and the request after it is still seen.",
    )
}
