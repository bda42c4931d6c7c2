//! TLS wire formats, hand-written and bounds-checked: record headers, the
//! handshake-message layer, ClientHello and ServerHello fields.

/// Content types of the record layer.
pub(crate) const CHANGE_CIPHER_SPEC: u8 = 20;
pub(crate) const HANDSHAKE: u8 = 22;
pub(crate) const APPLICATION_DATA: u8 = 23;

/// Handshake message types used here.
pub(crate) const HS_CLIENT_HELLO: u8 = 1;
pub(crate) const HS_SERVER_HELLO: u8 = 2;
pub(crate) const HS_END_OF_EARLY_DATA: u8 = 5;
pub(crate) const HS_FINISHED: u8 = 20;
pub(crate) const HS_KEY_UPDATE: u8 = 24;

/// Largest record payload accepted (TLS 1.2's 2^14 + 2048 for ciphertext).
pub(crate) const MAX_RECORD: usize = 16384 + 2048;

/// A ServerHello whose random is this is a HelloRetryRequest (RFC 8446 4.1.3).
pub(crate) const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A bounds-checked big-endian reader.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            return None;
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Some(a)
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    pub(crate) fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes(b.try_into().ok()?))
    }
    pub(crate) fn u24(&mut self) -> Option<usize> {
        let b = self.take(3)?;
        Some(
            usize::from(*b.first()?) << 16 | usize::from(*b.get(1)?) << 8 | usize::from(*b.get(2)?),
        )
    }
    /// A vector with a one-byte length.
    pub(crate) fn vec8(&mut self) -> Option<Reader<'a>> {
        let n = self.u8()?;
        Some(Reader::new(self.take(usize::from(n))?))
    }
    /// A vector with a two-byte length.
    pub(crate) fn vec16(&mut self) -> Option<Reader<'a>> {
        let n = self.u16()?;
        Some(Reader::new(self.take(usize::from(n))?))
    }
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }
}

/// A record header: content type, legacy version, payload length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    pub(crate) ctype: u8,
    pub(crate) version: u16,
    pub(crate) len: usize,
}

impl RecordHeader {
    /// Parses five bytes; None when too short, Some(Err) when not a record.
    pub(crate) fn parse(b: &[u8]) -> Option<Result<RecordHeader, ()>> {
        let mut r = Reader::new(b.get(..5)?);
        let ctype = r.u8()?;
        let version = r.u16()?;
        let len = usize::from(r.u16()?);
        let ok = (CHANGE_CIPHER_SPEC..=APPLICATION_DATA).contains(&ctype)
            && (version >> 8) == 3
            && len <= MAX_RECORD;
        Some(if ok {
            Ok(RecordHeader {
                ctype,
                version,
                len,
            })
        } else {
            Err(())
        })
    }

    pub(crate) fn bytes(&self) -> [u8; 5] {
        let [v0, v1] = self.version.to_be_bytes();
        let [l0, l1] = u16::try_from(self.len).unwrap_or(u16::MAX).to_be_bytes();
        [self.ctype, v0, v1, l0, l1]
    }
}

/// Reassembles handshake messages from the payloads of handshake records
/// (plaintext or decrypted), bounded: a message longer than `max` fails.
#[derive(Debug, Default)]
pub(crate) struct HandshakeBuf {
    buf: Vec<u8>,
}

impl HandshakeBuf {
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message (type, body), Ok(None) when incomplete,
    /// Err when its declared length exceeds `max`.
    pub(crate) fn next(&mut self, max: usize) -> Result<Option<(u8, Vec<u8>)>, ()> {
        let mut r = Reader::new(&self.buf);
        let (Some(t), Some(len)) = (r.u8(), r.u24()) else {
            return Ok(None);
        };
        if len > max {
            return Err(());
        }
        let Some(body) = r.take(len) else {
            return Ok(None);
        };
        let body = body.to_vec();
        self.buf.drain(..4 + len);
        Ok(Some((t, body)))
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// The first byte held (a message type when aligned).
    pub(crate) fn first(&self) -> Option<u8> {
        self.buf.first().copied()
    }
}

/// Extension numbers read.
const EXT_SERVER_NAME: u16 = 0;
const EXT_ALPN: u16 = 16;
const EXT_ENCRYPT_THEN_MAC: u16 = 22;
const EXT_SESSION_TICKET: u16 = 35;
const EXT_PRE_SHARED_KEY: u16 = 41;
const EXT_EARLY_DATA: u16 = 42;
const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// The fields of a ClientHello that decryption and reports use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientHello {
    pub(crate) legacy_version: u16,
    pub(crate) random: [u8; 32],
    pub(crate) session_id: Vec<u8>,
    pub(crate) cipher_suites: Vec<u16>,
    pub(crate) sni: Option<String>,
    pub(crate) alpn: Vec<String>,
    pub(crate) supported_versions: Vec<u16>,
    pub(crate) early_data: bool,
    pub(crate) encrypt_then_mac: bool,
    /// The session_ticket extension was present (non-empty: a resumption attempt).
    pub(crate) session_ticket: Option<usize>,
    pub(crate) pre_shared_key: bool,
}

/// The fields of a ServerHello (or HelloRetryRequest).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServerHello {
    pub(crate) random: [u8; 32],
    pub(crate) session_id: Vec<u8>,
    pub(crate) cipher_suite: u16,
    /// The negotiated version: supported_versions when present, else the legacy field.
    pub(crate) version: u16,
    pub(crate) encrypt_then_mac: bool,
    pub(crate) alpn: Option<String>,
    pub(crate) is_hrr: bool,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parses a ClientHello body (after the 4-byte handshake header).
pub(crate) fn parse_client_hello(body: &[u8]) -> Option<ClientHello> {
    let mut r = Reader::new(body);
    let mut ch = ClientHello {
        legacy_version: r.u16()?,
        random: r.take(32)?.try_into().ok()?,
        session_id: r.vec8()?.rest().to_vec(),
        ..ClientHello::default()
    };
    let mut suites = r.vec16()?;
    while let Some(s) = suites.u16() {
        ch.cipher_suites.push(s);
    }
    r.vec8()?; // compression methods
    if r.is_empty() {
        return Some(ch); // no extensions (old clients)
    }
    let mut exts = r.vec16()?;
    while !exts.is_empty() {
        let typ = exts.u16()?;
        let mut data = exts.vec16()?;
        match typ {
            EXT_SERVER_NAME => {
                let mut list = data.vec16()?;
                while !list.is_empty() {
                    let kind = list.u8()?;
                    let name = list.vec16()?;
                    if kind == 0 && ch.sni.is_none() {
                        ch.sni = Some(text(name.rest()));
                    }
                }
            }
            EXT_ALPN => {
                let mut list = data.vec16()?;
                while !list.is_empty() {
                    ch.alpn.push(text(list.vec8()?.rest()));
                }
            }
            EXT_SUPPORTED_VERSIONS => {
                let mut list = data.vec8()?;
                while let Some(v) = list.u16() {
                    ch.supported_versions.push(v);
                }
            }
            EXT_EARLY_DATA => ch.early_data = true,
            EXT_ENCRYPT_THEN_MAC => ch.encrypt_then_mac = true,
            EXT_SESSION_TICKET => ch.session_ticket = Some(data.rest().len()),
            EXT_PRE_SHARED_KEY => ch.pre_shared_key = true,
            _ => {}
        }
    }
    Some(ch)
}

/// Parses a ServerHello body (after the 4-byte handshake header).
pub(crate) fn parse_server_hello(body: &[u8]) -> Option<ServerHello> {
    let mut r = Reader::new(body);
    let legacy = r.u16()?;
    let random: [u8; 32] = r.take(32)?.try_into().ok()?;
    let mut sh = ServerHello {
        random,
        session_id: r.vec8()?.rest().to_vec(),
        cipher_suite: r.u16()?,
        version: legacy,
        is_hrr: random == HRR_RANDOM,
        ..ServerHello::default()
    };
    r.u8()?; // compression method
    if r.is_empty() {
        return Some(sh);
    }
    let mut exts = r.vec16()?;
    while !exts.is_empty() {
        let typ = exts.u16()?;
        let mut data = exts.vec16()?;
        match typ {
            EXT_SUPPORTED_VERSIONS => sh.version = data.u16()?,
            EXT_ENCRYPT_THEN_MAC => sh.encrypt_then_mac = true,
            EXT_ALPN => {
                let mut list = data.vec16()?;
                sh.alpn = Some(text(list.vec8()?.rest()));
            }
            _ => {}
        }
    }
    Some(sh)
}
