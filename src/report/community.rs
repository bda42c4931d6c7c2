//! The Community ID flow hash (community-id spec, version 1), so findings join
//! with Zeek, Suricata and Arkime records of the same connection.
//!
//! SHA-1 over: the seed (2 bytes, big-endian), the source address, the
//! destination address, the protocol, one zero byte of padding, the source
//! port, the destination port (2 bytes each, big-endian), where source and
//! destination are ordered so that the smaller (address, port) comes first;
//! base64 of the digest with `1:` in front.
use std::net::{IpAddr, SocketAddr};

use base64::Engine as _;
use sha1::Digest as _;

/// The Community ID (seed 0) of a flow between `a` and `b` over IP protocol
/// `proto` (6 for TCP); the same for both directions. Endpoints of different
/// IP versions (which no flow has) hash their addresses as IPv6.
pub fn community_id(a: SocketAddr, b: SocketAddr, proto: u8) -> String {
    let bytes = |ip: IpAddr| -> Vec<u8> {
        match (ip, a.is_ipv4() && b.is_ipv4()) {
            (IpAddr::V4(v4), true) => v4.octets().to_vec(),
            (IpAddr::V4(v4), false) => v4.to_ipv6_mapped().octets().to_vec(),
            (IpAddr::V6(v6), _) => v6.octets().to_vec(),
        }
    };
    let (ia, ib) = (bytes(a.ip()), bytes(b.ip()));
    let ((src, sport), (dst, dport)) = if (&ia, a.port()) <= (&ib, b.port()) {
        ((ia, a.port()), (ib, b.port()))
    } else {
        ((ib, b.port()), (ia, a.port()))
    };
    let mut h = sha1::Sha1::new();
    h.update(0u16.to_be_bytes());
    h.update(&src);
    h.update(&dst);
    h.update([proto, 0]);
    h.update(sport.to_be_bytes());
    h.update(dport.to_be_bytes());
    format!(
        "1:{}",
        base64::engine::general_purpose::STANDARD.encode(h.finalize())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(a: &str, b: &str, proto: u8) -> String {
        community_id(a.parse().unwrap(), b.parse().unwrap(), proto)
    }

    /// The spec's published examples (its baseline and README), both directions.
    #[test]
    fn the_specs_examples() {
        for (a, b, proto, want) in [
            (
                "128.232.110.120:34855",
                "66.35.250.204:80",
                6,
                "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            ),
            (
                "192.168.1.52:54585",
                "8.8.8.8:53",
                17,
                "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            ),
            (
                "[2001:470:e5bf:dead:4957:2174:e82c:4887]:63943",
                "[2607:f8b0:400c:c03::1a]:25",
                6,
                "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
            ),
        ] {
            assert_eq!(id(a, b, proto), want, "{a} {b}");
            assert_eq!(id(b, a, proto), want, "{b} {a}");
        }
    }

    #[test]
    fn the_same_address_orders_by_port() {
        assert_eq!(
            id("10.0.0.1:80", "10.0.0.1:5000", 6),
            id("10.0.0.1:5000", "10.0.0.1:80", 6)
        );
        assert_ne!(
            id("10.0.0.1:80", "10.0.0.1:5000", 6),
            id("10.0.0.1:81", "10.0.0.1:5000", 6)
        );
    }
}
