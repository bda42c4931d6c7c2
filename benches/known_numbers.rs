//! The known-number path at 1, 100, 1000 and 10000 numbers (`cargo bench`):
//! building the automaton and digest maps once, and inspecting requests with
//! them (256 benign requests of the corpus: the common case; the same mix
//! carrying the user's number hashed and in clear). `no_known_numbers` is
//! the same inspection without `--number`. Each iteration inspects the whole
//! mix of 256 requests. Medians are quoted in docs/detection.md.
// Test code: a panic is a failed check (Cargo.toml denies these in src/).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
use std::hint::black_box;

use fixturegen::corpus::{Req, Rng, benign, number};
use md5::Digest as _;
use phoneleak::detect::{Detector, KnownNumbers, PhoneNumber, number::parse_international};
use phoneleak::http::Header;

fn main() {
    divan::main();
}

const SIZES: &[usize] = &[1, 100, 1000, 10_000];
const MINE: &str = "+447700900123";

fn numbers(n: usize) -> Vec<PhoneNumber> {
    let mut r = Rng::new(5);
    let mut v = vec![parse_international(MINE).expect("valid")];
    while v.len() < n {
        let (cc, nsn) = number(&mut r);
        v.push(parse_international(&format!("+{cc}{nsn}")).expect("valid"));
        if v.len() == n {
            v.sort_by_key(PhoneNumber::e164);
            v.dedup();
        }
    }
    v
}

fn detector(n: usize) -> Detector {
    Detector::with(None, KnownNumbers::new(numbers(n)).expect("automaton"))
}

fn requests() -> Vec<Req> {
    benign(7, 256)
}

fn leaking_requests() -> Vec<Req> {
    let sha: String = sha2::Sha256::digest(b"+447700900123")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    benign(8, 256)
        .into_iter()
        .map(|mut r| {
            r.headers.push(Header {
                name: "X-Client-Hash".into(),
                value: sha.clone(),
            });
            r.uri = format!("{}&ref=user-447700900123", r.uri);
            r
        })
        .collect()
}

/// Inspects the whole mix per iteration; divan reports requests per second
/// (`ItemsCount`), and time per request is the median over the mix size.
fn inspect_all(bencher: divan::Bencher, det: &Detector, reqs: &[Req]) {
    bencher
        .counter(divan::counter::ItemsCount::new(reqs.len()))
        .bench_local(|| {
            for r in reqs {
                black_box(det.inspect_parts(&r.method, &r.uri, &r.headers));
            }
        });
}

/// Building the automaton and digest maps for `n` numbers.
#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn build(bencher: divan::Bencher, n: usize) {
    let v = numbers(n);
    bencher.bench_local(|| black_box(KnownNumbers::new(v.clone()).expect("automaton")));
}

/// One benign request (nothing found), `n` known numbers.
#[divan::bench(args = SIZES, sample_count = 30)]
fn benign_request(bencher: divan::Bencher, n: usize) {
    let det = detector(n);
    inspect_all(bencher, &det, &requests());
}

/// One request carrying the user's number (SHA-256 in a header, digits in
/// the query), `n` known numbers.
#[divan::bench(args = SIZES, sample_count = 30)]
fn leaking_request(bencher: divan::Bencher, n: usize) {
    let det = detector(n);
    inspect_all(bencher, &det, &leaking_requests());
}

/// The same benign requests without `--number`.
#[divan::bench(sample_count = 30)]
fn no_known_numbers(bencher: divan::Bencher) {
    inspect_all(bencher, &Detector::new(), &requests());
}
