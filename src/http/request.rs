//! The request type handed to detection and reporting.
use std::net::SocketAddr;

use crate::decode::Tunnel;
use crate::time::Timestamp;

/// One header line as it appeared on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The name, in its wire case.
    pub name: String,
    /// The value, with surrounding whitespace trimmed.
    pub value: String,
}

/// One HTTP/1.x or HTTP/2 request head, extracted from the client side of a TCP flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Capture time of the packet that carried the request's first byte.
    pub ts: Timestamp,
    /// The client (the side that sent the request).
    pub client: SocketAddr,
    /// The server.
    pub server: SocketAddr,
    /// Flow identifier, unique within one capture source.
    pub flow_id: u64,
    /// Request method, e.g. `GET`.
    pub method: String,
    /// Request target as sent, e.g. `/index.html` or `http://host/`.
    pub uri: String,
    /// Protocol version, e.g. `HTTP/1.1`.
    pub version: String,
    /// Every header line in wire order, duplicates kept.
    pub headers: Vec<Header>,
    /// True when the header block was cut (size limit, gap or end of stream).
    pub truncated: bool,
    /// Index of the packet that created the flow, and this request's position in
    /// the flow: a total order of requests that does not depend on threading.
    pub flow_order: (u64, u64),
    /// The IP tunnel of the client's latest packet when the request was
    /// published (GTP-U: the base station, the gateway and the uplink TEID).
    pub tunnel: Option<Tunnel>,
    /// The TLS connection the request was decrypted from, if any.
    pub tls: Option<crate::tls::TlsInfo>,
    /// The HTTP/2 stream identifier (`None` for HTTP/1.x); of a pushed
    /// request, the stream the server promised.
    pub stream_id: Option<u32>,
    /// For a request a server promised (HTTP/2 PUSH_PROMISE), not one the
    /// client sent: the client's stream the promise came on (the
    /// "associated stream"). Reported, its leaks too, but not counted as a
    /// request the client sent.
    pub pushed_on: Option<u32>,
    /// The HTTP/2 `:authority` pseudo-header (`None` for HTTP/1.x, whose
    /// `Host` is one of `headers`); pseudo-headers are not in `headers`.
    pub authority: Option<String>,
    /// The body, when one was collected (`--max-body-bytes`): its fields.
    pub body: Option<Box<crate::body::Body>>,
    /// The server's responses on its connection are read
    /// (`Config::read_responses`) and were in step when it was sent: its
    /// [`Answer`] follows it if the response was captured.
    pub answer_awaited: bool,
}

/// The response to a request, read from the server's side of its
/// connection (only with `Config::read_responses`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The request's [`Request::flow_order`].
    pub flow_order: (u64, u64),
    /// The status code.
    pub status: u16,
    /// Capture time of the status line's first byte.
    pub ts: Timestamp,
}

impl Request {
    /// The HTTP/2 `:authority`, else the first `Host` header's value, else
    /// the authority of an absolute-form target.
    pub fn host(&self) -> Option<&str> {
        if let Some(a) = self.authority.as_deref().filter(|a| !a.is_empty()) {
            return Some(a);
        }
        if let Some(h) = self
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("host"))
        {
            return Some(h.value.as_str());
        }
        let rest = self
            .uri
            .strip_prefix("http://")
            .or_else(|| self.uri.strip_prefix("https://"))?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        rest.get(..end).filter(|a| !a.is_empty())
    }
}
