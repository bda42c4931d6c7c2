//! A hand-made TLS 1.2 record writer for the CBC suites rustls does not
//! implement.

use super::TlsFixture;

/// The CBC fixtures.
pub fn all() -> Vec<TlsFixture> {
    Vec::new()
}
