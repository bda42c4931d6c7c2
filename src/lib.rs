//! phoneleak: find phone numbers and subscriber identifiers that a network
//! leaked into HTTP request headers, in packet captures.
//!
//! The library is a one-way pipeline; each stage is a module with a small,
//! typed interface and sees only the stage before it:
//!
//! ```text
//! capture ──Packet──▶ decode ──TcpSegment──▶ flow ──stream bytes/gaps──▶ http
//!     ──Request──▶ detect ──Leak──▶ report
//! ```
//!
//! [`pipeline::Analyzer`] wires decode → flow → http → detect for one packet
//! source; the binary only parses arguments, opens sources and picks a
//! [`report`] sink. See `docs/architecture.md`.
// `deny`, not `forbid`: one audited exception, capture::live::join_fanout
// (docs/dependencies.md). Any other `unsafe` fails to compile.
#![deny(unsafe_code)]
#![deny(missing_docs)]
// Every byte comes from a capture or the wire: no panicking shortcuts outside
// tests (`[lints.clippy]` in Cargo.toml, for the binary too; clippy.toml lets
// tests use them).

/// Adds the counters of `$other` to `$this`, field by field. The pattern is
/// exhaustive, so a counter added to the struct but not here fails to compile.
macro_rules! absorb_counters {
    ($this:ident, $other:ident, $ty:ident { $($field:ident),* $(,)? }) => {{
        let $ty { $($field),* } = $other;
        $( $this.$field += *$field; )*
    }};
}

pub mod capture;
pub mod decode;
pub mod detect;
pub mod flow;
pub mod http;
pub mod pipeline;
pub mod report;
pub mod time;
