//! Writes every finding on the generated corpora (`fixturegen/src/corpus.rs`), one
//! line each, to the file given as the only argument: the benign corpora of
//! seeds 1 and 3 and the leaking corpus, each under four configurations
//! (defaults, `--region GB`, `--region US`, `--region DE` with 1 000 known
//! numbers). Run it before and after a change to detection and compare the
//! files to show that no finding changed (`docs/detection.md`, "Cost per
//! request"): `cargo run --example dump_findings -- /tmp/findings.txt`.
// Tool code: a panic is a failed run (Cargo.toml denies these in src/).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
use std::fmt::Write as _;

use fixturegen::corpus::{Rng, WAYS, benign, leaking, number};
use phoneleak::detect::{
    Detector, KnownNumbers, Leak, PhoneNumber, Region, number::parse_international,
};

fn known_numbers(extra: usize, mine: &str) -> KnownNumbers {
    let mut r = Rng::new(99);
    let mut v: Vec<PhoneNumber> = (0..extra)
        .map(|_| {
            let (cc, nsn) = number(&mut r);
            parse_international(&format!("+{cc}{nsn}")).expect("valid")
        })
        .collect();
    v.push(parse_international(mine).expect("valid"));
    v.sort_by_key(PhoneNumber::e164);
    v.dedup();
    KnownNumbers::new(v).expect("automaton")
}

fn line(out: &mut String, tag: &str, i: usize, l: &Leak) {
    let _ = writeln!(
        out,
        "{tag} {i} {:?} {} {:?} {:?} {} {} {:?} {:?} {:?}",
        l.place,
        l.location.as_str(),
        l.key,
        l.span,
        l.kind.as_str(),
        l.confidence.as_str(),
        l.number.as_ref().map(PhoneNumber::e164),
        l.form,
        l.encoding.map(|e| e.as_str()),
    );
}

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: dump_findings OUTPUT");
        std::process::exit(2);
    };
    let configs = [
        ("defaults", Detector::new()),
        (
            "GB",
            Detector::with(Region::parse("GB"), KnownNumbers::default()),
        ),
        (
            "US",
            Detector::with(Region::parse("US"), KnownNumbers::default()),
        ),
        (
            "DE+known",
            Detector::with(Region::parse("DE"), known_numbers(1000, "+447700900123")),
        ),
    ];
    let mut out = String::new();
    for seed in [1, 3] {
        let corpus = benign(seed, 20_000);
        for (name, det) in &configs {
            for (i, req) in corpus.iter().enumerate() {
                for l in det.inspect_parts(&req.method, &req.uri, &req.headers) {
                    line(&mut out, &format!("benign{seed}/{name}"), i, &l);
                }
            }
        }
    }
    let mine = ("44".to_string(), "7700900123".to_string());
    let cases = leaking(2, WAYS * 300, &mine);
    for (name, det) in &configs {
        for (i, case) in cases.iter().enumerate() {
            let req = &case.req;
            for l in det.inspect_parts(&req.method, &req.uri, &req.headers) {
                line(&mut out, &format!("leaking/{name}"), i, &l);
            }
        }
    }
    std::fs::write(path, out).expect("dump written");
}
