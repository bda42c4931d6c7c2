//! A real TLS stack made deterministic: rustls client and server talking in
//! memory, with a crypto provider whose random source is a seeded generator
//! and whose key-exchange groups (X25519, P-256) draw their ephemeral keys
//! from it, a fixed clock, an Ed25519 server certificate made from fixed
//! bytes, and a key-log hook that collects the NSS key-log lines. Same
//! options, same bytes on every run.
//!
//! [`Endpoints`] holds one client and one server configuration (so a second
//! connection can resume the first one's session); [`Session`] is one
//! connection, moving the bytes each side writes to the other and handing
//! them back as [`Flight`]s, ready to be put on the wire by the TCP model.

use std::fmt;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    ActiveKeyExchange, CryptoProvider, GetRandomFailed, SecureRandom, SharedSecret,
    SupportedKxGroup, ring as rp,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::ProducesTickets;
use rustls::time_provider::TimeProvider;
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, Error, KeyLog, NamedGroup, ServerConfig,
    ServerConnection, SignatureScheme, SupportedCipherSuite,
};

/// A seeded, deterministic stand-in for a secure random source (SplitMix64).
/// Never use it for anything but test captures.
#[derive(Debug)]
pub struct SeededRng(Mutex<u64>);

impl SeededRng {
    /// A generator whose output depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRng(Mutex::new(seed))
    }

    /// The next 64 bits.
    pub fn next_u64(&self) -> u64 {
        let mut s = self.0.lock().unwrap();
        *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fills `buf`.
    pub fn fill_bytes(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    /// `n` bytes.
    pub fn bytes(&self, n: usize) -> Vec<u8> {
        let mut v = vec![0; n];
        self.fill_bytes(&mut v);
        v
    }
}

impl SecureRandom for SeededRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        self.fill_bytes(buf);
        Ok(())
    }
}

/// A key-exchange group rustls can offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// X25519 (x25519-dalek).
    X25519,
    /// secp256r1 (the p256 crate).
    P256,
}

#[derive(Debug)]
struct Kx {
    group: Group,
    rng: &'static SeededRng,
}

struct ActiveX25519 {
    secret: x25519_dalek::StaticSecret,
    public: [u8; 32],
}

struct ActiveP256 {
    secret: p256::SecretKey,
    public: Vec<u8>,
}

impl SupportedKxGroup for Kx {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        match self.group {
            Group::X25519 => {
                let mut b = [0u8; 32];
                self.rng.fill_bytes(&mut b);
                let secret = x25519_dalek::StaticSecret::from(b);
                let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
                Ok(Box::new(ActiveX25519 { secret, public }))
            }
            Group::P256 => loop {
                let b = self.rng.bytes(32);
                if let Ok(secret) = p256::SecretKey::from_slice(&b) {
                    let public = secret.public_key().to_sec1_bytes().to_vec();
                    return Ok(Box::new(ActiveP256 { secret, public }));
                }
            },
        }
    }

    fn name(&self) -> NamedGroup {
        match self.group {
            Group::X25519 => NamedGroup::X25519,
            Group::P256 => NamedGroup::secp256r1,
        }
    }
}

impl ActiveKeyExchange for ActiveX25519 {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        let peer: [u8; 32] = peer
            .try_into()
            .map_err(|_| Error::General("bad X25519 share".into()))?;
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        Ok(SharedSecret::from(&shared.as_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

impl ActiveKeyExchange for ActiveP256 {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        let peer = p256::PublicKey::from_sec1_bytes(peer)
            .map_err(|_| Error::General("bad P-256 share".into()))?;
        let shared = p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), peer.as_affine());
        Ok(SharedSecret::from(&shared.raw_secret_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::secp256r1
    }
}

/// The capture's clock as rustls sees it.
#[derive(Debug)]
struct FixedTime(u64);

impl TimeProvider for FixedTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            self.0,
        )))
    }
}

/// Collects the NSS key-log lines rustls gives.
#[derive(Clone, Debug, Default)]
pub struct KeyLines(Arc<Mutex<String>>);

impl KeyLines {
    /// Takes the lines collected so far.
    pub fn take(&self) -> String {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl KeyLog for KeyLines {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let mut s = self.0.lock().unwrap();
        s.push_str(label);
        s.push(' ');
        s.push_str(&hex(client_random));
        s.push(' ');
        s.push_str(&hex(secret));
        s.push('\n');
    }
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A session-ticket protector that depends on nothing but its key: the
/// ticket is the state XORed with a keystream and a check value. Enough for
/// a test capture, never for a server.
#[derive(Debug)]
struct FixedTicketer;

impl FixedTicketer {
    fn keystream(n: usize) -> Vec<u8> {
        SeededRng::new(0x7469_636b_6574).bytes(n)
    }
}

impl ProducesTickets for FixedTicketer {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        7200
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let mut out = b"tkt1".to_vec();
        out.extend(
            plain
                .iter()
                .zip(Self::keystream(plain.len()))
                .map(|(a, b)| a ^ b),
        );
        Some(out)
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        let body = cipher.strip_prefix(b"tkt1")?;
        Some(
            body.iter()
                .zip(Self::keystream(body.len()))
                .map(|(a, b)| a ^ b)
                .collect(),
        )
    }
}

/// The server's Ed25519 key (PKCS#8 v1 around fixed seed bytes).
pub fn server_key_pkcs8() -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&SeededRng::new(0x0065_6432_3535_3139).bytes(32));
    der
}

/// A self-signed Ed25519 certificate for `names` (fixed key, serial from
/// the key, validity 1975–4096): the same DER on every run.
pub fn server_cert(names: &[&str]) -> Vec<u8> {
    let key_der = PrivatePkcs8KeyDer::from(server_key_pkcs8());
    let key = rcgen::KeyPair::try_from(&key_der).unwrap();
    let params =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}

/// Checks the server's certificate is the expected one and its handshake
/// signatures with the provider's algorithms.
#[derive(Debug)]
struct PinnedCert {
    cert: Vec<u8>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if end_entity.as_ref() == self.cert.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(Error::General("unexpected certificate".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

/// A cipher suite rustls offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// TLS_AES_128_GCM_SHA256.
    Tls13Aes128Gcm,
    /// TLS_AES_256_GCM_SHA384.
    Tls13Aes256Gcm,
    /// TLS_CHACHA20_POLY1305_SHA256.
    Tls13Chacha20,
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (Ed25519 certificate).
    Tls12Aes128Gcm,
    /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384.
    Tls12Aes256Gcm,
    /// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256.
    Tls12Chacha20,
}

impl Suite {
    fn rustls(self) -> SupportedCipherSuite {
        use rp::cipher_suite as cs;
        match self {
            Suite::Tls13Aes128Gcm => cs::TLS13_AES_128_GCM_SHA256,
            Suite::Tls13Aes256Gcm => cs::TLS13_AES_256_GCM_SHA384,
            Suite::Tls13Chacha20 => cs::TLS13_CHACHA20_POLY1305_SHA256,
            Suite::Tls12Aes128Gcm => cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            Suite::Tls12Aes256Gcm => cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            Suite::Tls12Chacha20 => cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        }
    }

    /// The version the suite belongs to.
    pub fn version(self) -> Version {
        match self {
            Suite::Tls13Aes128Gcm | Suite::Tls13Aes256Gcm | Suite::Tls13Chacha20 => Version::Tls13,
            _ => Version::Tls12,
        }
    }
}

/// How the server lets a client resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resumption {
    /// Server-side session cache: TLS 1.2 session IDs, TLS 1.3 tickets
    /// naming a cached session (the only kind rustls accepts 0-RTT with).
    Stateful,
    /// Self-contained tickets (TLS 1.2 RFC 5077 tickets).
    Tickets,
}

/// What one pair of endpoints is made of.
#[derive(Clone, Debug)]
pub struct Options {
    /// Seed of every random byte both sides draw.
    pub seed: u64,
    /// The one suite both sides offer.
    pub suite: Suite,
    /// Groups the client offers, first one with a key share.
    pub client_groups: Vec<Group>,
    /// Groups the server accepts.
    pub server_groups: Vec<Group>,
    /// Server name (SNI, certificate name).
    pub sni: String,
    /// Early data: client sends it, server accepts up to this many bytes
    /// (0: the server refuses it).
    pub early_data: Option<u32>,
    /// Resumption mechanism.
    pub resumption: Resumption,
    /// Unix time both sides believe it is.
    pub now_secs: u64,
    /// The one ALPN protocol both sides offer (`http/1.1`, `h2`).
    pub alpn: &'static [u8],
}

impl Options {
    /// X25519 on both sides, stateful resumption, no early data.
    pub fn new(seed: u64, suite: Suite, sni: &str, now_secs: u64) -> Self {
        Options {
            seed,
            suite,
            client_groups: vec![Group::X25519],
            server_groups: vec![Group::X25519],
            sni: sni.into(),
            early_data: None,
            resumption: Resumption::Stateful,
            now_secs,
            alpn: b"http/1.1",
        }
    }
}

fn provider(rng: &'static SeededRng, suite: Suite, groups: &[Group]) -> Arc<CryptoProvider> {
    #[allow(deprecated)] // the groups are replaced below
    let base = rp::default_provider();
    Arc::new(CryptoProvider {
        cipher_suites: vec![suite.rustls()],
        kx_groups: groups
            .iter()
            .map(|&group| {
                let kx: &'static dyn SupportedKxGroup = Box::leak(Box::new(Kx { group, rng }));
                kx
            })
            .collect(),
        secure_random: rng,
        ..base
    })
}

/// One client configuration and one server configuration: connections made
/// from the same endpoints can resume each other's sessions.
pub struct Endpoints {
    opts: Options,
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    keys: KeyLines,
}

impl Endpoints {
    /// Builds both configurations.
    pub fn new(opts: Options) -> Self {
        let client_rng: &'static SeededRng = Box::leak(Box::new(SeededRng::new(opts.seed)));
        let server_rng: &'static SeededRng =
            Box::leak(Box::new(SeededRng::new(opts.seed ^ 0x5345_5256_4552_0000)));
        let version: &'static rustls::SupportedProtocolVersion = match opts.suite.version() {
            Version::Tls12 => &rustls::version::TLS12,
            Version::Tls13 => &rustls::version::TLS13,
        };
        let keys = KeyLines::default();
        let cert = server_cert(&[&opts.sni]);
        let time = Arc::new(FixedTime(opts.now_secs));

        let cp = provider(client_rng, opts.suite, &opts.client_groups);
        let mut client = ClientConfig::builder_with_details(cp.clone(), time.clone())
            .with_protocol_versions(&[version])
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedCert {
                cert: cert.clone(),
                provider: cp,
            }))
            .with_no_client_auth();
        client.alpn_protocols = vec![opts.alpn.to_vec()];
        client.key_log = Arc::new(keys.clone());
        client.enable_early_data = opts.early_data.is_some();

        Endpoints {
            server: Arc::new(Self::server_config(&opts, server_rng, version, &cert)),
            client: Arc::new(client),
            opts,
            keys,
        }
    }

    fn server_config(
        opts: &Options,
        rng: &'static SeededRng,
        version: &'static rustls::SupportedProtocolVersion,
        cert: &[u8],
    ) -> ServerConfig {
        let sp = provider(rng, opts.suite, &opts.server_groups);
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key_pkcs8()));
        let mut server = ServerConfig::builder_with_details(sp, Arc::new(FixedTime(opts.now_secs)))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert.to_vec())], key)
            .unwrap();
        server.alpn_protocols = vec![opts.alpn.to_vec()];
        server.max_early_data_size = opts.early_data.unwrap_or(0);
        server.send_tls13_tickets = 1;
        if opts.resumption == Resumption::Tickets {
            server.ticketer = Arc::new(FixedTicketer);
        }
        server
    }

    /// The same server (and session cache) accepting at most `early_data`
    /// bytes of early data (0: resumes, refuses early data).
    pub fn server_early_data(&mut self, early_data: u32) {
        let mut cfg = (*self.server).clone();
        cfg.max_early_data_size = early_data;
        self.server = Arc::new(cfg);
    }

    /// The key-log lines written since the last call.
    pub fn take_keys(&self) -> String {
        self.keys.take()
    }

    /// A new connection (nothing sent yet).
    pub fn connect(&self) -> Session {
        let name = ServerName::try_from(self.opts.sni.clone()).unwrap();
        Session {
            client: ClientConnection::new(self.client.clone(), name).unwrap(),
            server: ServerConnection::new(self.server.clone()).unwrap(),
            received: Vec::new(),
        }
    }
}

/// Bytes one side put on the wire in one go.
#[derive(Clone, Debug)]
pub struct Flight {
    /// Sent by the client.
    pub from_client: bool,
    /// The TLS records.
    pub bytes: Vec<u8>,
}

/// One TLS connection between the endpoints' client and server.
pub struct Session {
    /// The client side.
    pub client: ClientConnection,
    /// The server side.
    pub server: ServerConnection,
    /// Plaintext the server has read from the client so far.
    pub received: Vec<u8>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session {
    /// What the client would send now, taken out of it without delivering.
    pub fn client_output(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while self.client.wants_write() {
            self.client.write_tls(&mut out).unwrap();
        }
        out
    }

    /// What the server would send now, taken out of it without delivering.
    pub fn server_output(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while self.server.wants_write() {
            self.server.write_tls(&mut out).unwrap();
        }
        out
    }

    /// Hands `bytes` to the server as if they came from the client.
    pub fn to_server(&mut self, bytes: &[u8]) {
        let mut rd = bytes;
        while !rd.is_empty() {
            self.server.read_tls(&mut rd).unwrap();
            self.server.process_new_packets().unwrap();
        }
        if let Some(mut ed) = self.server.early_data() {
            ed.read_to_end(&mut self.received).unwrap();
        }
        let mut buf = [0u8; 4096];
        loop {
            match self.server.reader().read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => self.received.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// Hands `bytes` to the client as if they came from the server.
    pub fn to_client(&mut self, bytes: &[u8]) {
        // The plaintext is drained as it comes: rustls buffers a bounded amount.
        let mut rd = bytes;
        let mut buf = [0u8; 4096];
        while !rd.is_empty() {
            self.client.read_tls(&mut rd).unwrap();
            self.client.process_new_packets().unwrap();
            while let Ok(n @ 1..) = self.client.reader().read(&mut buf) {
                let _ = &buf[..n];
            }
        }
    }

    /// Moves bytes both ways until neither side has anything to send.
    pub fn pump(&mut self) -> Vec<Flight> {
        let mut flights = Vec::new();
        loop {
            let c = self.client_output();
            if !c.is_empty() {
                self.to_server(&c);
                flights.push(Flight {
                    from_client: true,
                    bytes: c,
                });
            }
            let s = self.server_output();
            if !s.is_empty() {
                self.to_client(&s);
                flights.push(Flight {
                    from_client: false,
                    bytes: s,
                });
            }
            if !self.client.wants_write() && !self.server.wants_write() {
                return flights;
            }
        }
    }

    /// The whole handshake (and the server's tickets).
    pub fn handshake(&mut self) -> Vec<Flight> {
        let f = self.pump();
        assert!(!self.client.is_handshaking() && !self.server.is_handshaking());
        f
    }

    /// Writes `data` as 0-RTT early data; the records go out with the
    /// ClientHello at the next [`Session::pump`]. False if the client
    /// cannot send early data on this connection.
    pub fn early(&mut self, data: &[u8]) -> bool {
        match self.client.early_data() {
            Some(mut ed) => {
                ed.write_all(data).unwrap();
                true
            }
            None => false,
        }
    }

    /// Whether the server accepted the early data.
    pub fn early_accepted(&self) -> bool {
        self.client.is_early_data_accepted()
    }

    /// The client sends `data` (one write: one record per 16 KiB).
    pub fn client_send(&mut self, data: &[u8]) -> Vec<Flight> {
        self.client.writer().write_all(data).unwrap();
        self.pump()
    }

    /// The client sends `data` in several writes of the given sizes (the
    /// last size repeats): one record each.
    pub fn client_send_pieces(&mut self, data: &[u8], sizes: &[usize]) -> Vec<Flight> {
        let mut pos = 0;
        let mut i = 0;
        while pos < data.len() {
            let n = sizes[i.min(sizes.len() - 1)].min(data.len() - pos);
            self.client.writer().write_all(&data[pos..pos + n]).unwrap();
            pos += n;
            i += 1;
        }
        self.pump()
    }

    /// The server sends `data` in several writes of the given sizes (the
    /// last size repeats): one record each.
    pub fn server_send_pieces(&mut self, data: &[u8], sizes: &[usize]) -> Vec<Flight> {
        let mut pos = 0;
        let mut i = 0;
        while pos < data.len() {
            let n = sizes[i.min(sizes.len() - 1)].min(data.len() - pos);
            self.server.writer().write_all(&data[pos..pos + n]).unwrap();
            pos += n;
            i += 1;
        }
        self.pump()
    }

    /// The server sends `data`.
    pub fn server_send(&mut self, data: &[u8]) -> Vec<Flight> {
        self.server.writer().write_all(data).unwrap();
        self.pump()
    }

    /// The client sends a KeyUpdate (TLS 1.3): later records use the next
    /// traffic secret, derived from the logged one.
    pub fn client_key_update(&mut self) -> Vec<Flight> {
        self.client.refresh_traffic_keys().unwrap();
        self.pump()
    }

    /// The server sends a KeyUpdate (TLS 1.3).
    pub fn server_key_update(&mut self) -> Vec<Flight> {
        self.server.refresh_traffic_keys().unwrap();
        self.pump()
    }

    /// Both sides send close_notify.
    pub fn close(&mut self) -> Vec<Flight> {
        self.client.send_close_notify();
        let mut f = self.pump();
        self.server.send_close_notify();
        f.extend(self.pump());
        f
    }

    /// Plaintext the server read since the last call.
    pub fn take_received(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.received)
    }
}

/// Records of a whole TLS 1.3 (or 1.2) connection carrying `exchanges`
/// (request, response) one after the other: the handshake, each request
/// and its response, the closing alerts; plus the key log. For generators
/// that need TLS traffic in bulk (the TLS benchmark capture).
pub fn records(opts: Options, exchanges: &[(Vec<u8>, Vec<u8>)]) -> (Vec<Flight>, String) {
    let ep = Endpoints::new(opts);
    let mut s = ep.connect();
    let mut flights = s.handshake();
    for (req, resp) in exchanges {
        flights.extend(s.client_send(req));
        assert_eq!(&s.take_received(), req);
        flights.extend(s.server_send(resp));
    }
    flights.extend(s.close());
    (flights, ep.take_keys())
}
