//! A hand-made TLS 1.2 record writer for the CBC suites rustls does not
//! implement.
