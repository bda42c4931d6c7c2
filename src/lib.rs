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
// `deny`, not `forbid`: audited exceptions in capture::live::join_fanout and
// capture::mapped (mapping, releasing and prefetching; docs/dependencies.md).
// Any other `unsafe` fails to compile.
#![deny(unsafe_code)]
#![deny(missing_docs)]
// Every byte comes from a capture or the wire: no panicking shortcuts outside
// tests (`[lints.clippy]` in Cargo.toml, for the binary too; clippy.toml lets
// tests use them).

/// The counter registry: declares a group of `u64` counters once, as a
/// struct, and generates from that one list the summary's JSON fields
/// (serde, both ways), [`absorb`](crate::pipeline::Stats::absorb) and the visitor every
/// report walks. A counter is one line: its doc comment and its name.
/// Fields after `peaks:` are high-water marks: absorbed by maximum, kept out
/// of the summary.
macro_rules! counters {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[doc = $fdoc:literal])* pub $field:ident: u64, )*
            $( peaks: $( $(#[$pmeta:meta])* pub $peak:ident: u64, )* )?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        // A summary read back (`phoneleak merge`) may lack counters that are
        // zero or newer than its writer: they read as 0.
        #[serde(default)]
        pub struct $name {
            $( $(#[doc = $fdoc])* pub $field: u64, )*
            $( $( $(#[$pmeta])* #[serde(skip)] pub $peak: u64, )* )?
        }

        impl $name {
            /// The counters' names, in summary order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];

            /// Each counter's doc comment, one line, in the order of
            /// [`Self::NAMES`]: what the man page and docs/output.md say of it.
            pub const DOCS: &'static [&'static str] = &[$(concat!($($fdoc),*)),*];

            /// Adds another stage's counters to these (peaks: the larger).
            pub fn absorb(&mut self, o: &$name) {
                $( self.$field = self.$field.saturating_add(o.$field); )*
                $( $( self.$peak = self.$peak.max(o.$peak); )* )?
            }

            /// Calls `f` with each counter's name and value, in summary order.
            pub fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
                $( f(stringify!($field), self.$field); )*
            }
        }
    };
}

pub mod body;
pub mod capture;
pub mod decode;
pub mod detect;
pub mod diff;
pub mod flow;
pub mod h2;
pub mod http;
pub mod pipeline;
pub mod report;
pub mod stack;
pub mod time;
pub mod tls;
