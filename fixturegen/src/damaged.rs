//! Damaged captures, one of each class of damage a reader must tell apart:
//! cut (the input ends inside its last record: a warning, what came before is
//! read), damaged before the end (a corrupt length: an error, status 2), and
//! nothing readable at all. Made from two fixtures (a classic pcap and a
//! two-section pcapng) for `tests/it/damaged.rs`, which runs each one as a
//! file, on standard input, gzip'd and zstd'd and requires the same status and
//! the same packets read.

/// One damaged capture.
pub struct Sample {
    /// A file name for it.
    pub name: &'static str,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// The status `scan` must exit with (`--exit-code 0`: 0 for "read to its
    /// end", 2 for damage).
    pub status: i32,
    /// Packets that must be read.
    pub packets: u64,
}

/// Offsets and whole lengths of the records of a little-endian classic pcap.
pub fn pcap_records(pcap: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push((at, 16 + caplen));
        at += 16 + caplen;
    }
    out
}

/// Offsets, lengths and types of the blocks of a little-endian pcapng.
pub fn pcapng_blocks(ng: &[u8]) -> Vec<(usize, usize, u32)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= ng.len() {
        let kind = u32::from_le_bytes(ng[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(ng[at + 4..at + 8].try_into().unwrap()) as usize;
        out.push((at, len, kind));
        at += len;
    }
    out
}

fn put(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn fixture(name: &str) -> Vec<u8> {
    crate::all()
        .into_iter()
        .find(|f| f.name == name)
        .map(|f| f.bytes)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

/// Every sample, in a fixed order.
pub fn samples() -> Vec<Sample> {
    let pcap = fixture("o2-2012.pcap");
    let recs = pcap_records(&pcap);
    let n = recs.len() as u64;
    let (last, _) = recs[recs.len() - 1];
    let (tenth, tenth_len) = recs[10];
    let ng = fixture("links.pcapng");
    let blocks = pcapng_blocks(&ng);
    let epbs: Vec<(usize, usize)> = blocks
        .iter()
        .filter(|b| b.2 == 6)
        .map(|b| (b.0, b.1))
        .collect();
    let ng_packets = epbs.len() as u64;
    let (epb, epb_len) = epbs[5];
    let (last_block, _) = epbs[epbs.len() - 1];

    let mut out = Vec::new();
    let mut add = |name, bytes, status, packets| {
        out.push(Sample {
            name,
            bytes,
            status,
            packets,
        })
    };
    // Classic pcap.
    let mut b = pcap.clone();
    put(&mut b, last + 8, 0xfff0_0000);
    add("pcap-last-record-huge-length", b, 2, n - 1);
    let mut b = pcap.clone();
    put(&mut b, tenth + 8, 0xfff0_0000);
    add("pcap-record-huge-length", b, 2, 10);
    let mut b = pcap.clone();
    put(&mut b, last + 8, 1 << 20);
    add("pcap-last-record-longer-than-the-file", b, 0, n - 1);
    add(
        "pcap-cut-in-a-record-header",
        pcap[..tenth + 7].to_vec(),
        0,
        10,
    );
    add(
        "pcap-cut-in-a-packet",
        pcap[..tenth + tenth_len - 5].to_vec(),
        0,
        10,
    );
    add("pcap-cut-in-the-file-header", pcap[..10].to_vec(), 2, 0);
    add("empty", Vec::new(), 2, 0);
    // pcapng.
    let mut b = ng.clone();
    put(&mut b, epb + 20, epb_len as u32 + 100);
    add(
        "pcapng-captured-length-beyond-its-block",
        b,
        2,
        ng_packets - 1,
    );
    let mut b = ng.clone();
    put(&mut b, epb + 20, epb_len as u32 + 100);
    put(&mut b, epb + epb_len - 4, epb_len as u32 + 4);
    add("pcapng-captured-length-beyond-a-torn-block", b, 2, 5);
    let mut b = ng.clone();
    put(&mut b, last_block + 4, 0x7fff_fff0);
    add("pcapng-last-block-huge-length", b, 2, ng_packets - 1);
    let mut b = ng.clone();
    put(&mut b, epb + 4, 0x7fff_fff0);
    add("pcapng-block-huge-length", b, 2, 5);
    let mut b = ng.clone();
    put(&mut b, epb + 4, 1 << 20);
    add("pcapng-block-longer-than-the-file", b, 0, 5);
    add("pcapng-cut-in-a-block", ng[..epb + 40].to_vec(), 0, 5);
    add("pcapng-cut-in-a-block-header", ng[..epb + 6].to_vec(), 0, 5);
    add("pcapng-cut-in-the-section-header", ng[..20].to_vec(), 2, 0);
    out
}
