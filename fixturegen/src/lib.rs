//! phoneleak's own fixture generator: writes small, deterministic packet
//! captures (pcap and pcapng) that re-enact MSISDN leaks and the hard cases
//! of TCP reassembly and HTTP extraction, each with the truth an analyzer
//! must report, written by construction.
//!
//! `examples/gen_fixtures.rs` writes them to `fixtures/`; the integration
//! tests (`tests/it/fixtures.rs`) check the committed files byte for byte
//! against it. [`corpus`] generates the request corpora of the detection
//! tests and the benchmarks.
//!
//! A `publish = false` crate of the workspace, a dev-dependency of phoneleak
//! (imported there as `fixturegen`).

pub mod bodies;
pub mod corpus;
pub mod damaged;
pub mod encap;
pub mod h2;
pub mod hostile;
pub mod http;
pub mod links;
pub mod packet;
pub mod pcap;
pub mod proxies;
pub mod scenarios;
pub mod tcp;
pub mod tls;
pub mod tunnels;
pub mod vantage;

use serde::{Deserialize, Serialize};

/// One request the analyzer must (or may) report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthRequest {
    /// The client, `SocketAddr` display form.
    pub src: String,
    /// The server, `SocketAddr` display form.
    pub dst: String,
    /// Request method.
    pub method: String,
    /// Request target as sent.
    pub uri: String,
    /// The Host header's value.
    pub host: String,
    /// Lower-cased names of the headers carrying a phone number or
    /// subscriber identifier.
    pub leak_headers: Vec<String>,
    /// Lower-cased names of the headers (and `(request-target)`) that leak
    /// only when `--number +447700900123` is given (encoded, hashed, or
    /// bare digits without a phone-like key); omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_leak_headers: Vec<String>,
    /// The header block is cut (size limit, gap, snap length); omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// What an analyzer must report for one fixture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truth {
    /// The capture's file name.
    pub fixture: String,
    /// What hard case it shows.
    pub description: String,
    /// Every request the analyzer must report, in the order of their first
    /// byte's capture time (ties: order within the stream).
    pub requests: Vec<TruthRequest>,
    /// Requests an analyzer may report or leave out (a request whose header
    /// block is cut by missing bytes); if reported, as given here. Omitted
    /// when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optional_requests: Vec<TruthRequest>,
    /// Requests a server promised (HTTP/2 PUSH_PROMISE; `src` is still the
    /// client, `dst` the server): an analyzer must report them marked as
    /// pushed, never as requests the client sent. Omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pushed_requests: Vec<TruthRequest>,
    /// What a reader must know.
    pub notes: String,
}

/// One generated capture file and its truth.
pub struct Fixture {
    /// File name including extension, e.g. `o2-2012.pcap`.
    pub name: &'static str,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// What an analyzer must report.
    pub truth: Truth,
}

impl Fixture {
    /// The truth file's name: `<stem>.truth.json`.
    pub fn truth_name(&self) -> String {
        let stem = self.name.rsplit_once('.').map_or(self.name, |(s, _)| s);
        format!("{stem}.truth.json")
    }

    /// The truth file's contents (pretty JSON, trailing newline).
    pub fn truth_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.truth).expect("truth serializes");
        s.push('\n');
        s
    }
}

/// Every fixture, in a fixed order. Deterministic: same bytes on every run.
pub fn all() -> Vec<Fixture> {
    scenarios::all()
}
