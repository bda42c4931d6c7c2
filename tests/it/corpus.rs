//! Detection against generated corpora (fixturegen/src/corpus.rs): a benign corpus of
//! realistic requests full of digit strings must yield no finding at all,
//! under every configuration; a leaking corpus must yield exactly the leak
//! planted in each request. `cargo test --test it corpus:: -- --nocapture` prints
//! the measured rates quoted in docs/detection.md.
use fixturegen::corpus::{self, Rng, WAYS, benign, leaking, number};
use phoneleak::detect::{
    Detector, KnownNumbers, Leak, PhoneNumber, Region, number::parse_international,
};

const BENIGN: usize = 20_000;
const LEAKING_PER_WAY: usize = 300;

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

fn describe(req: &corpus::Req, l: &Leak) -> String {
    let text = l.place_text(&req.uri, &req.headers);
    format!(
        "{} {:?} {} in {:?}: {:?}",
        l.kind.as_str(),
        l.location,
        l.confidence.as_str(),
        l.place_name(&req.headers),
        text.get(l.span.clone()).unwrap_or("")
    )
}

#[test]
fn benign_corpus_yields_no_finding() {
    let corpus = benign(1, BENIGN);
    let headers: usize = corpus.iter().map(|r| r.headers.len()).sum();
    let bytes: usize = corpus
        .iter()
        .map(|r| {
            r.uri.len()
                + r.headers
                    .iter()
                    .map(|h| h.name.len() + h.value.len() + 4)
                    .sum::<usize>()
        })
        .sum();
    let long_digit_runs: usize = corpus
        .iter()
        .flat_map(|r| {
            std::iter::once(r.uri.as_str()).chain(r.headers.iter().map(|h| h.value.as_str()))
        })
        .map(|t| {
            t.split(|c: char| !c.is_ascii_digit())
                .filter(|run| run.len() >= 9)
                .count()
        })
        .sum();
    let configs = [
        ("defaults", Detector::new()),
        (
            "--region GB",
            Detector::with(Region::parse("GB"), KnownNumbers::default()),
        ),
        (
            "--region US",
            Detector::with(Region::parse("US"), KnownNumbers::default()),
        ),
        (
            "--region DE + 1000 known numbers",
            Detector::with(Region::parse("DE"), known_numbers(1000, "+447700900123")),
        ),
    ];
    let mut failures = Vec::new();
    for (name, det) in &configs {
        let mut findings = 0usize;
        for req in &corpus {
            let leaks = det.inspect_parts(&req.method, &req.uri, &req.headers);
            findings += leaks.len();
            for l in leaks.iter().take(1) {
                if failures.len() < 20 {
                    failures.push(format!(
                        "{name}: {} {}: {}",
                        req.method,
                        req.uri,
                        describe(req, l)
                    ));
                }
            }
        }
        eprintln!(
            "benign corpus [{name}]: {} requests, {headers} headers, {bytes} bytes, {long_digit_runs} digit runs of 9+ digits: {findings} findings",
            corpus.len()
        );
    }
    assert!(
        failures.is_empty(),
        "false alarms:\n{}",
        failures.join("\n")
    );
}

#[test]
fn leaking_corpus_yields_every_planted_leak() {
    let mine = ("44".to_string(), "7700900123".to_string());
    let det = Detector::with(None, known_numbers(1000, "+447700900123"));
    let cases = leaking(2, WAYS * LEAKING_PER_WAY, &mine);
    let mut found = [0usize; WAYS];
    let mut failures = Vec::new();
    let mut extra = 0usize;
    for (i, case) in cases.iter().enumerate() {
        let req = &case.req;
        let p = &case.planted;
        let leaks = det.inspect_parts(&req.method, &req.uri, &req.headers);
        let matches = |l: &Leak| {
            l.place_name(&req.headers).eq_ignore_ascii_case(&p.header)
                && l.kind.as_str() == p.kind
                && l.location.as_str() == p.location
                && l.number.as_ref().map(PhoneNumber::e164) == p.number
                && p.encoding
                    .is_none_or(|e| l.encoding.map(|x| x.as_str()) == Some(e))
        };
        let hits = leaks.iter().filter(|l| matches(l)).count();
        if hits >= 1 {
            found[i % WAYS] += 1;
        } else if failures.len() < 20 {
            let got: Vec<String> = leaks.iter().map(|l| describe(req, l)).collect();
            failures.push(format!(
                "way {}: planted {p:?}\n    in {} {}\n    found {got:?}",
                i % WAYS,
                req.method,
                req.uri
            ));
        }
        for l in leaks.iter().filter(|l| !matches(l)) {
            extra += 1;
            if failures.len() < 20 {
                failures.push(format!(
                    "way {}: extra finding {} (planted {:?})",
                    i % WAYS,
                    describe(req, l),
                    p.what
                ));
            }
        }
    }
    eprintln!(
        "leaking corpus: {} requests, {} planted leaks found ({:?} per way), {extra} extra findings",
        cases.len(),
        found.iter().sum::<usize>(),
        found
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(found, [LEAKING_PER_WAY; WAYS]);
}
