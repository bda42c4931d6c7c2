//! The handshake extractor fed arbitrary hello bodies: the input, cut in
//! two, is sent as a ClientHello (in records of at most 300 bytes) and a
//! ServerHello; the fields read must not panic, and key-log text and the
//! stream sniffer see the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use phoneleak::time::Timestamp;
use phoneleak::tls::{KeyLog, KeyLogStats, Plain, TlsConnection, TlsLimits, TlsStats, sniff};

fn records(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = body.len().min(0xff_ffff);
    let mut msg = vec![msg_type, (len >> 16) as u8, (len >> 8) as u8, len as u8];
    msg.extend_from_slice(body);
    let mut out = Vec::new();
    for c in msg.chunks(300) {
        out.extend_from_slice(&[22, 3, 1, (c.len() >> 8) as u8, c.len() as u8]);
        out.extend_from_slice(c);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let cut = data.first().map_or(0, |&b| usize::from(b) * data.len() / 256);
    let (ch, sh) = data.split_at(cut);
    let keys = KeyLog::new();
    let mut st = TlsStats::default();
    let mut out: Vec<Plain> = Vec::new();
    let mut c = TlsConnection::new(&TlsLimits::default());
    let client = records(1, ch);
    let _ = sniff(&client);
    c.client(Timestamp(0), &client, &keys, &mut st, &mut out);
    c.want_server(true);
    let mut server_out: Vec<Plain> = Vec::new();
    c.server(Timestamp(1), &records(2, sh), &keys, &mut st, &mut out, &mut server_out);
    assert!(server_out.is_empty());
    let _ = c.info();
    c.end(&keys, &mut st, &mut out);
    assert!(out.is_empty());
    let _ = sniff(data);
    let mut k = KeyLog::new();
    k.add_text(data, &mut KeyLogStats::default());
    let _ = format!("{k:?}");
});
