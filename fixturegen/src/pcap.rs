//! Capture-file writers: classic pcap (both byte orders, micro- and
//! nanosecond magic) and pcapng (sections, interfaces, enhanced packets).

/// Byte order of a classic pcap file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    /// Little-endian (the usual on x86 capture hosts).
    Little,
    /// Big-endian.
    Big,
}

/// A classic pcap file under construction.
pub struct PcapWriter {
    endian: Endian,
    nanos: bool,
    snaplen: u32,
    buf: Vec<u8>,
}

/// The default snapshot length.
pub const SNAPLEN: u32 = 262_144;

impl PcapWriter {
    /// Starts a file: writes the 24-byte global header.
    pub fn new(endian: Endian, nanos: bool, snaplen: u32, linktype: u16) -> Self {
        let mut w = PcapWriter {
            endian,
            nanos,
            snaplen,
            buf: Vec::new(),
        };
        w.u32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
        w.u16(2);
        w.u16(4);
        w.u32(0); // thiszone
        w.u32(0); // sigfigs
        w.u32(snaplen);
        w.u32(u32::from(linktype));
        w
    }

    fn u16(&mut self, v: u16) {
        match self.endian {
            Endian::Little => self.buf.extend_from_slice(&v.to_le_bytes()),
            Endian::Big => self.buf.extend_from_slice(&v.to_be_bytes()),
        }
    }

    fn u32(&mut self, v: u32) {
        match self.endian {
            Endian::Little => self.buf.extend_from_slice(&v.to_le_bytes()),
            Endian::Big => self.buf.extend_from_slice(&v.to_be_bytes()),
        }
    }

    /// Writes a record header alone (used to cut a file short).
    pub fn record_header(&mut self, ts_ns: u64, caplen: u32, origlen: u32) {
        let secs = (ts_ns / 1_000_000_000) as u32;
        let frac = ts_ns % 1_000_000_000;
        let frac = if self.nanos { frac } else { frac / 1000 } as u32;
        self.u32(secs);
        self.u32(frac);
        self.u32(caplen);
        self.u32(origlen);
    }

    /// Appends one packet, cut to the snapshot length (caplen < origlen then).
    pub fn packet(&mut self, ts_ns: u64, data: &[u8]) {
        let caplen = data.len().min(self.snaplen as usize);
        self.record_header(ts_ns, caplen as u32, data.len() as u32);
        self.buf.extend_from_slice(&data[..caplen]);
    }

    /// Appends raw bytes (used to cut a file short).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The file's bytes.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// A little-endian pcapng file under construction.
#[derive(Default)]
pub struct PcapNgWriter {
    buf: Vec<u8>,
    /// Timestamp resolution exponent (10^-n s) of each interface of the
    /// current section.
    resol: Vec<u8>,
}

fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn end_of_options(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0, 0, 0, 0]);
}

impl PcapNgWriter {
    /// An empty file; call [`PcapNgWriter::section`] first.
    pub fn new() -> Self {
        Self::default()
    }

    fn block(&mut self, btype: u32, body: &[u8]) {
        assert_eq!(body.len() % 4, 0);
        let total = (12 + body.len()) as u32;
        self.buf.extend_from_slice(&btype.to_le_bytes());
        self.buf.extend_from_slice(&total.to_le_bytes());
        self.buf.extend_from_slice(body);
        self.buf.extend_from_slice(&total.to_le_bytes());
    }

    /// Starts a new section (Section Header Block); interface ids restart at 0.
    pub fn section(&mut self, user_appl: &str) {
        let mut body = Vec::new();
        body.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&u64::MAX.to_le_bytes()); // section length unknown
        option(&mut body, 4, user_appl.as_bytes()); // shb_userappl
        end_of_options(&mut body);
        self.block(0x0a0d_0d0a, &body);
        self.resol.clear();
    }

    /// Adds an Interface Description Block; returns its id in this section.
    /// `tsresol` None leaves the option out (microseconds by default).
    pub fn interface(
        &mut self,
        linktype: u16,
        snaplen: u32,
        tsresol: Option<u8>,
        name: &str,
    ) -> u32 {
        let mut body = Vec::new();
        body.extend_from_slice(&linktype.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&snaplen.to_le_bytes());
        option(&mut body, 2, name.as_bytes()); // if_name
        if let Some(r) = tsresol {
            option(&mut body, 9, &[r]); // if_tsresol
        }
        end_of_options(&mut body);
        self.block(1, &body);
        self.resol.push(tsresol.unwrap_or(6));
        (self.resol.len() - 1) as u32
    }

    /// Adds an Enhanced Packet Block on interface `if_id` of this section.
    pub fn packet(&mut self, if_id: u32, ts_ns: u64, data: &[u8]) {
        let resol = self.resol[if_id as usize];
        let ts = match resol {
            6 => ts_ns / 1000,
            9 => ts_ns,
            r => panic!("unsupported if_tsresol {r}"),
        };
        let mut body = Vec::new();
        body.extend_from_slice(&if_id.to_le_bytes());
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        self.block(6, &body);
    }

    /// Adds a Decryption Secrets Block (type 0x0A) holding `secrets` of
    /// type `secrets_type` (0x544c534b: a TLS key log).
    pub fn secrets(&mut self, secrets_type: u32, secrets: &[u8]) {
        let mut body = Vec::new();
        body.extend_from_slice(&secrets_type.to_le_bytes());
        body.extend_from_slice(&(secrets.len() as u32).to_le_bytes());
        body.extend_from_slice(secrets);
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        self.block(0x0000_000a, &body);
    }

    /// The file's bytes.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}
