//! The real captures with key logs in `$PHONELEAK_TLS_CAPTURES` (else
//! `../shared/captures-tls` beside the checkout): read with phoneleak's own
//! capture, decode and flow modules, each TLS connection fed to a
//! [`TlsConnection`], and the decrypted client streams must hold the HTTP
//! requests tshark finds with the same keys (the folder's README lists them).
//! Skipped, with a message, when the folder is absent.

use std::path::PathBuf;

use super::*;
use crate::capture::{self, PacketSource};
use crate::decode::{Decoder, DefragLimits};
use crate::flow::{
    Chunk, CloseReason, FlowContext, FlowTable, Interest, Limits, Side, StreamHandler,
};

#[derive(Default)]
struct ConnState {
    conn: Option<(TlsConnection, Side)>,
    out: Vec<Plain>,
}

struct Handler<'k> {
    keys: &'k KeyLog,
    stats: TlsStats,
    streams: Vec<Vec<Plain>>,
}

impl StreamHandler for Handler<'_> {
    type State = ConnState;

    fn on_chunk(
        &mut self,
        st: &mut ConnState,
        _f: &FlowContext,
        side: Side,
        chunk: Chunk<'_>,
    ) -> Interest {
        if st.conn.is_none() {
            if let Chunk::Data { bytes, .. } = chunk
                && sniff(bytes) == Sniff::Tls
            {
                st.conn = Some((TlsConnection::new(&TlsLimits::default()), side));
            } else {
                return Interest::Continue;
            }
        }
        let Some((c, client)) = &mut st.conn else {
            return Interest::Continue;
        };
        let from_client = side == *client;
        match chunk {
            Chunk::Data { ts, bytes } if from_client => {
                c.client(ts, bytes, self.keys, &mut self.stats, &mut st.out)
            }
            Chunk::Data { ts, bytes } => c.server(
                ts,
                bytes,
                self.keys,
                &mut self.stats,
                &mut st.out,
                &mut Vec::new(),
            ),
            Chunk::Gap { len } if from_client => c.client_gap(len, &mut self.stats),
            Chunk::Gap { len } => c.server_gap(len, &mut self.stats, &mut Vec::new()),
        }
        if !from_client && !c.wants_server() {
            return Interest::Stop;
        }
        Interest::Continue
    }

    fn on_close(&mut self, st: &mut ConnState, _f: &FlowContext, _r: CloseReason) {
        if let Some((c, _)) = &mut st.conn {
            c.end(self.keys, &mut self.stats, &mut st.out);
            self.streams.push(std::mem::take(&mut st.out));
        }
    }
}

/// HTTP/1 request lines, or HTTP/2 HEADERS frames after the preface.
fn requests(stream: &[u8]) -> usize {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    if let Some(mut rest) = stream.strip_prefix(PREFACE) {
        let mut n = 0;
        while rest.len() >= 9 {
            let len = usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]);
            if rest[3] == 1 {
                n += 1;
            }
            rest = rest.get(9 + len..).unwrap_or(&[]);
        }
        return n;
    }
    let text = String::from_utf8_lossy(stream);
    text.split("\r\n")
        .filter(|l| {
            let mut w = l.split(' ');
            let m = w.next().unwrap_or("");
            ["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH"].contains(&m)
                && w.nth(1).is_some_and(|v| v.starts_with("HTTP/1."))
        })
        .count()
}

fn scan(pcap: &std::path::Path, keys: &KeyLog) -> (TlsStats, Vec<Vec<Plain>>) {
    let mut reader = capture::open_file(pcap).unwrap();
    let mut decoder = Decoder::new(DefragLimits::default());
    let mut table = FlowTable::new(Limits::default());
    let mut h = Handler {
        keys,
        stats: TlsStats::default(),
        streams: Vec::new(),
    };
    let mut index = 0u64;
    while let Some(p) = reader.next_packet().unwrap() {
        if let Ok(seg) = decoder.decode(p.ts, p.link, p.data) {
            table.process(index, p.ts, &seg, &mut h);
        }
        index += 1;
    }
    table.flush_all(&mut h);
    (h.stats, h.streams)
}

#[test]
fn real_captures_hold_tsharks_requests() {
    let dir = std::env::var_os("PHONELEAK_TLS_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/captures-tls")
        });
    if !dir.is_dir() {
        eprintln!(
            "SKIPPED: no TLS captures at {} (set PHONELEAK_TLS_CAPTURES)",
            dir.display()
        );
        return;
    }
    // (capture, key log, requests tshark finds, TLS 1.3 KeyUpdates expected)
    let cases = [
        (
            "princeb612--hotplace--http1.pcapng",
            "princeb612--hotplace--http1.keys",
            11,
            false,
        ),
        (
            "princeb612--hotplace--http2.pcapng",
            "princeb612--hotplace--http2.keys",
            5,
            false,
        ),
        (
            "fkie-cad--pcapFS--aes128-gcm-sha256.pcap",
            "fkie-cad--pcapFS--aes128-gcm-sha256.keys",
            1,
            false,
        ),
        (
            "fkie-cad--pcapFS--aes256-cbc-sha.pcap",
            "fkie-cad--pcapFS--aes256-cbc-sha.keys",
            1,
            false,
        ),
        (
            "Voev--snet--tls1.3_curl_google.pcap",
            "Voev--snet--tls1.3_curl_google.keys",
            1,
            false,
        ),
        (
            "Voev--snet--tls1.3_keyupdates_aes256.pcap",
            "Voev--snet--tls1.3_keyupdates_aes256.keys",
            0,
            true,
        ),
    ];
    for (pcap, keyfile, want, key_updates) in cases {
        let mut keys = KeyLog::new();
        let mut ks = KeyLogStats::default();
        keys.add_text(&std::fs::read(dir.join(keyfile)).unwrap(), &mut ks);
        let (stats, streams) = scan(&dir.join(pcap), &keys);
        let found: usize = streams.iter().map(|s| requests(&tests::flatten(s))).sum();
        eprintln!("{pcap}: {found} requests; {stats:?}; {ks:?}");
        assert_eq!(found, want, "{pcap}");
        assert!(stats.decrypted >= 1, "{pcap}: {stats:?}");
        assert_eq!(stats.auth_failures, 0, "{pcap}");
        assert_eq!(stats.records_auth_failed, 0, "{pcap}");
        if key_updates {
            assert!(stats.key_updates >= 1, "{pcap}: {stats:?}");
        }
    }
}
