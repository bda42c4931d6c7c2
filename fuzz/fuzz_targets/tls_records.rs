//! TLS record framing and decryption state fed arbitrary bytes: the input is
//! split into chunks, each sent by the client or the server (first byte of
//! each 3-byte op: side, gap or retry; then the chunk length), with a key
//! log holding TLS 1.2 and 1.3 secrets (both sides') for the client random
//! of all zeros and of all 0x41, under a small hold cap so the cut is
//! reached; the server's plaintext is wanted or not as the ops say.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::time::Timestamp;
use phoneleak::tls::{KeyLog, KeyLogStats, Plain, TlsConnection, TlsLimits, TlsStats};

fuzz_target!(|data: &[u8]| {
    let mut keys = KeyLog::new();
    let mut ks = KeyLogStats::default();
    for r in ["00", "41"] {
        let random = r.repeat(32);
        for (label, len) in [
            ("CLIENT_RANDOM", 48),
            ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 32),
            ("CLIENT_TRAFFIC_SECRET_0", 32),
            ("CLIENT_EARLY_TRAFFIC_SECRET", 48),
            ("SERVER_HANDSHAKE_TRAFFIC_SECRET", 32),
            ("SERVER_TRAFFIC_SECRET_0", 48),
        ] {
            let line = format!("{label} {random} {}\n", "5a".repeat(len));
            keys.add_text(line.as_bytes(), &mut ks);
        }
    }
    let limits = TlsLimits {
        max_held_per_flow: 4096,
        max_handshake: 2048,
    };
    let mut c = TlsConnection::new(&limits);
    let mut st = TlsStats::default();
    let mut out: Vec<Plain> = Vec::new();
    let mut server_out: Vec<Plain> = Vec::new();
    let mut rest = data;
    let mut i = 0i64;
    while let [op, l0, l1, tail @ ..] = rest {
        let len = (usize::from(*l0) << 8 | usize::from(*l1)).min(tail.len());
        let (chunk, after) = tail.split_at(len);
        rest = after;
        i += 1;
        match op % 8 {
            0..=3 => c.client(Timestamp(i), chunk, &keys, &mut st, &mut out),
            4 => c.server(Timestamp(i), chunk, &keys, &mut st, &mut out, &mut server_out),
            5 => {
                c.want_server(len % 2 == 0);
                c.server_gap(len as u64, &mut st, &mut server_out);
            }
            6 => c.client_gap(len as u64, &mut st),
            _ => c.retry(&keys, &mut st, &mut out),
        }
        let _ = c.info();
        // The hold cap (4 096), a handshake message being read (2 048) and
        // one record of each direction in its framer (2^14 + 2 048 + 5).
        let held = c.held_bytes();
        assert!(held <= 4096 + 2048 + 2 * 18437, "{held} bytes held");
        server_out.clear();
    }
    c.end(&keys, &mut st, &mut out);
    assert_eq!(st.connections, 1);
});
